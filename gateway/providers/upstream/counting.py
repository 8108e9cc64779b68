"""How many HTTP requests a block of work sent to each provider (what the access log reports
for one GraphQL request), counted where each request is sent."""

from __future__ import annotations

from collections import Counter
from contextvars import ContextVar

from gateway.bound import Bound

__all__ = ["count_upstream_calls", "counted"]

_upstream_calls: ContextVar[Counter[str] | None] = ContextVar("upstream_calls", default=None)


def count_upstream_calls() -> Bound[Counter[str] | None, Counter[str]]:
    """Count the HTTP requests sent to each provider within the ``with`` block (this task and
    the tasks it starts), e.g. to log what one GraphQL request cost upstream."""
    counter: Counter[str] = Counter()
    return Bound(_upstream_calls, counter, counter)


def counted(provider: str) -> None:
    """One request is being sent to ``provider``: count it for every block it runs in."""
    if (calls := _upstream_calls.get()) is not None:
        calls[provider] += 1
