"""How many HTTP requests a block of work sent to each provider (what the access log reports
for one GraphQL request), counted where each request is sent."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from contextvars import ContextVar

__all__ = ["count_upstream_calls", "counted"]

_upstream_calls: ContextVar[Counter[str] | None] = ContextVar("upstream_calls", default=None)


@contextlib.contextmanager
def count_upstream_calls() -> Iterator[Counter[str]]:
    """Count the HTTP requests sent to each provider within the block (this task and the tasks
    it starts), e.g. to log what one GraphQL request cost upstream."""
    counter: Counter[str] = Counter()
    token = _upstream_calls.set(counter)
    try:
        yield counter
    finally:
        _upstream_calls.reset(token)


def counted(provider: str) -> None:
    """One request is being sent to ``provider``: count it for every block it runs in."""
    if (calls := _upstream_calls.get()) is not None:
        calls[provider] += 1
