"""A size budget checked on the parsed document before graphql-core validates it.

Validation itself can be the attack: a ~400-byte document whose fragments each spread the next
one twice expands to millions of fields, and the standard rules (overlapping fields, depth) walk
every expansion, holding the event loop for tens of seconds. This counts the document's fields
with every fragment expanded, each fragment sized once (memoised), in time linear in the
document, and refuses it before any rule runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.types import ExecutionContext

from gateway.errors import ErrorCode

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_FIELDS",
    "MAX_TOKENS",
    "expanded_size",
    "size_refusal",
]

MAX_FIELDS: Final = 2000
"""Fields a request may select once fragments are expanded (the README's largest example
selects about 60)."""
MAX_DEPTH: Final = 10
"""Nesting depth of a selection (graphql rule, checked during validation)."""
MAX_ALIASES: Final = 30
"""Aliases in one document (graphql rule, checked during validation)."""
MAX_TOKENS: Final = 5000
"""Tokens the parser reads before it gives up on a document."""


def expanded_size(document: DocumentNode, limit: int) -> int:
    """Fields selected by the document's operations, fragments expanded; counting stops a little
    past ``limit``. A fragment cycle counts as nothing here (validation reports it)."""
    return _Expansion(document, limit).total()


class _Expansion:
    """The count behind :func:`expanded_size`. A class, not two nested functions calling each
    other: those would be a reference cycle, left for the cyclic collector on every request."""

    def __init__(self, document: DocumentNode, limit: int) -> None:
        self.document = document
        self.limit = limit
        self.fragments: Mapping[str, FragmentDefinitionNode] = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.sizes: dict[str, int] = {}
        self.visiting: set[str] = set()

    def total(self) -> int:
        total = 0
        for operation in _operations(self.document):
            total += self.selection_set(operation.selection_set)
            if total > self.limit:
                break
        return total

    def fragment(self, name: str) -> int:
        if name in self.sizes:
            return self.sizes[name]
        if name in self.visiting or name not in self.fragments:
            return 0
        self.visiting.add(name)
        self.sizes[name] = self.selection_set(self.fragments[name].selection_set)
        self.visiting.discard(name)
        return self.sizes[name]

    def selection_set(self, node: SelectionSetNode | None) -> int:
        total = 0
        for selection in node.selections if node is not None else ():
            if isinstance(selection, FieldNode):
                total += 1 + self.selection_set(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                total += self.selection_set(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
            if total > self.limit:
                return total
        return total


def _operations(document: DocumentNode) -> Iterator[OperationDefinitionNode]:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            yield definition


def size_refusal(context: ExecutionContext, limit: int = MAX_FIELDS) -> GraphQLError | None:
    """``QUERY_TOO_LARGE`` for a document selecting over ``limit`` fields once its fragments
    are expanded (checked before validation, which it then spares)."""
    assert context.graphql_document is not None
    if expanded_size(context.graphql_document, limit) <= limit:
        return None
    return GraphQLError(
        f"the query selects more than {limit} fields once its fragments "
        f"are expanded; split it or select less",
        extensions={"code": ErrorCode.QUERY_TOO_LARGE.value, "limit": limit},
    )
