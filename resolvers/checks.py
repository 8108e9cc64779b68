"""The checks an operation passes before graphql-core validates it.

In order: the document's size (:mod:`resolvers.limits`), its estimated upstream cost
(:mod:`resolvers.cost`), then the caller's scopes (:mod:`resolvers.access`); the first refusal
answers and nothing after it runs, validation included. The key's per-minute budget is charged
later, just before execution (:func:`resolvers.access.budget_refusal`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from graphql import GraphQLError
from strawberry.types import ExecutionContext

from resolvers.access import scope_refusal
from resolvers.cost import cost_refusal
from resolvers.limits import size_refusal

__all__ = ["refusal_before_validation"]

_BEFORE_VALIDATION: Final[tuple[Callable[[ExecutionContext], GraphQLError | None], ...]] = (
    size_refusal,
    cost_refusal,
    scope_refusal,
)


def refusal_before_validation(context: ExecutionContext) -> GraphQLError | None:
    """The first check that refuses the parsed operation, or ``None``."""
    for refusal in _BEFORE_VALIDATION:
        if (error := refusal(context)) is not None:
            return error
    return None
