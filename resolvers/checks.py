"""The checks an operation passes before it runs, as one schema extension.

In order: the document's size (:mod:`resolvers.limits`), its estimated upstream cost
(:mod:`resolvers.cost`), the caller's scopes (:mod:`resolvers.access`), then validation (cached);
the first refusal answers and nothing after it runs. Just before execution, the key's
per-minute budget is charged. One extension rather than one per check: Strawberry wraps every
extension's hook in a fresh context manager on every request (a cached lookup's CPU went
1.4 -> 1.0 ms when four became one, docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

from graphql import ExecutionResult, GraphQLError
from strawberry.extensions import ValidationCache
from strawberry.types import ExecutionContext

from resolvers.access import budget_refusal, scope_refusal
from resolvers.cost import cost_refusal
from resolvers.limits import size_refusal

__all__ = ["OperationChecks"]

_BEFORE_VALIDATION: Final[tuple[Callable[[ExecutionContext], GraphQLError | None], ...]] = (
    size_refusal,
    cost_refusal,
    scope_refusal,
)


class OperationChecks(ValidationCache):
    """Refusals before validation and execution, and Strawberry's validation cache between."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        for refusal in _BEFORE_VALIDATION:
            if context.pre_execution_errors is not None or context.graphql_document is None:
                break
            if (error := refusal(context)) is not None:
                # Strawberry skips validation when an extension has already set these.
                context.pre_execution_errors = [error]
        if context.pre_execution_errors is not None:
            yield
            return
        yield from super().on_validate()

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if not context.result and (error := budget_refusal(context)) is not None:
            # Strawberry skips execution when an extension has set the result.
            context.result = ExecutionResult(data=None, errors=[error])
        yield
