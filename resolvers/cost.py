"""A static estimate of the upstream calls an operation can cause, checked before it runs.

One customer lookup can fan out to every configured provider on every expansion hop; a page
multiplies that by ``first``, ``_entities`` by the number of representations, and aliases
multiply whole root fields. The estimate is an upper bound from the query text and variables
alone (no I/O): cheap queries are far below the limit, while 30 aliases of
``customers(first: 100)`` (thousands of upstream calls) are refused with ``QUERY_TOO_COSTLY``
saying the cost and the limit; the estimate of an accepted one is kept on the request context
(``query_cost``) for logs and metrics.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    GraphQLError,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    VariableNode,
)
from strawberry.types import ExecutionContext

from gateway.core.pages import DEFAULT_PAGE_SIZE
from gateway.errors import ErrorCode

__all__ = ["MAX_COST", "cost_refusal", "estimate"]

MAX_COST: Final = 5000
"""Upstream calls one request may cause at most (estimated): a full page of 100 customers on
five providers with three hops is 1,500."""
_SINGLE: Final = frozenset(
    {"customer", "customerByEmail", "customerByProviderId", "customerByLinkedId"}
)
_MUTATIONS: Final = frozenset({"createCustomer", "updateCustomer", "deleteCustomer"})
_MAX_INT_DIGITS: Final = 11
"""Characters of the longest 32-bit Int literal (``-2147483648``)."""


def estimate(
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    *,
    per_customer: int,
    providers: int,
) -> int:
    """Upper bound on the upstream calls of the operation that would run.

    ``per_customer`` bounds one customer's expansion (providers x hops); a mutation writes to
    each provider at most once and reads the customer back.
    """
    operation = _operation(document, operation_name)
    if operation is None:
        return 0
    values = variables or {}
    total = 0
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode):
            total += per_customer  # fragments on the root: count as one lookup
            continue
        name = selection.name.value
        if name in _SINGLE:
            total += per_customer
        elif name == "customers":
            first = _int_argument(selection, "first", values, DEFAULT_PAGE_SIZE)
            total += 1 + max(first, 0) * per_customer
        elif name == "_entities":
            total += _list_length(selection, "representations", values) * per_customer
        elif name in _MUTATIONS:
            total += 2 * providers + per_customer
    return total


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def _argument(field: FieldNode, name: str) -> ArgumentNode | None:
    return next((a for a in field.arguments or () if a.name.value == name), None)


def _int_argument(field: FieldNode, name: str, values: Mapping[str, Any], default: int) -> int:
    argument = _argument(field, name)
    if argument is None:
        return default
    node = argument.value
    if isinstance(node, VariableNode):
        value = values.get(node.name.value, default)
        return value if isinstance(value, int) and not isinstance(value, bool) else default
    if not isinstance(node, IntValueNode) or len(node.value) > _MAX_INT_DIGITS:
        # Past Int's range validation refuses it; int() on 4300+ digits would raise here first.
        return default
    return int(node.value)


def _list_length(field: FieldNode, name: str, values: Mapping[str, Any]) -> int:
    argument = _argument(field, name)
    if argument is None:
        return 0
    node = argument.value
    if isinstance(node, VariableNode):
        value = values.get(node.name.value)
        return len(value) if isinstance(value, list) else 1
    return len(node.values) if isinstance(node, ListValueNode) else 1


def cost_refusal(context: ExecutionContext, limit: int = MAX_COST) -> GraphQLError | None:
    """``QUERY_TOO_COSTLY`` for an operation estimated over ``limit`` upstream calls; the
    estimate is kept on the request context (the key's budget is charged with it)."""
    request = context.context
    document = context.graphql_document
    assert document is not None
    providers = len(getattr(request, "adapters", {})) or 1
    settings = getattr(request, "settings", None)
    hops = settings.identity.max_hops if settings is not None else 3
    cost = estimate(
        document,
        context.operation_name,
        context.variables,
        per_customer=providers * hops,
        providers=providers,
    )
    if hasattr(request, "query_cost"):
        request.query_cost = cost
    if cost <= limit:
        return None
    return GraphQLError(
        f"this operation could make about {cost} upstream calls, over the "
        f"limit of {limit}; ask for fewer customers (first, aliases, "
        "representations) per request",
        extensions={
            "code": ErrorCode.QUERY_TOO_COSTLY.value,
            "cost": cost,
            "limit": limit,
        },
    )
