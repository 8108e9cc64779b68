"""The executor Strawberry runs operations with, minus one reference cycle.

graphql-core's executor keeps two of its own bound methods in ``async_helpers`` (what resolvers
use to gather and track work), so it is in a reference cycle, and so is everything it holds:
the request context, the loaders, the collected fields, ~110 objects for a single lookup. Only
CPython's cyclic collector could free them, and under load it was that collector's main work
(docs/benchmarks.md). Once the response is built and no work is left settling in the
background, nothing asks the executor for its helpers again, so it lets them go and the whole
execution is freed by reference counting when the request ends.
"""

from __future__ import annotations

from typing import Any

from graphql.execution import ExecutionResult, ExperimentalIncrementalExecutionResults
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

__all__ = ["ReleasingExecutionContext"]


class ReleasingExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, which drops ``async_helpers`` with its response when done."""

    def build_response(
        self, data: dict[str, Any] | None
    ) -> ExecutionResult | ExperimentalIncrementalExecutionResults:
        response = super().build_response(data)
        if not self.background_futures:  # else abandoned work may still build resolve infos
            del self.async_helpers
        return response
