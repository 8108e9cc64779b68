"""One GraphQL request's deadline and lifetime, seen by every upstream call it causes.

The HTTP layer opens a :class:`RequestScope` around each GraphQL request (:func:`request_scope`);
it rides a context variable, so the resolvers' tasks and the dataloader batch tasks the request
starts all see it. :class:`~gateway.providers.http.ProviderHTTP` ends each call by the request's
deadline and runs it inside :meth:`RequestScope.call`, so when the request ends (answered, timed
out or abandoned by its client) the calls still running are cancelled and no new one starts: no
upstream call outlives the request that asked for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Final

__all__ = ["RequestEnded", "RequestScope", "current_scope", "request_scope"]

_current: Final[ContextVar[RequestScope | None]] = ContextVar("request_scope", default=None)


class RequestEnded(Exception):
    """An upstream call asked for after its request ended; nothing is sent."""


class RequestScope:
    """A request's absolute deadline (``time.monotonic()`` seconds) and the tasks currently
    inside an upstream call for it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        """The deadline as configured (``request_deadline``), for messages."""
        self.deadline = time.monotonic() + seconds
        self.ended = False
        self.wrote = False
        """Whether a write (any method but GET/HEAD/OPTIONS) went upstream for the request:
        a client that hangs up then does not cut it short (see gateway/request_guard.py)."""
        self._calls: dict[asyncio.Task[object], int] = {}

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    @contextlib.contextmanager
    def call(self, *, write: bool = False) -> Iterator[None]:
        """Run one upstream call for the request: refused (:class:`RequestEnded`) once the
        request has ended, cancelled by :meth:`end` while it runs."""
        if self.ended:
            raise RequestEnded("the request has ended (answered, timed out or abandoned)")
        self.wrote = self.wrote or write
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - ProviderHTTP always runs in a task
            yield
            return
        self._calls[task] = self._calls.get(task, 0) + 1
        try:
            yield
        finally:
            if (left := self._calls.pop(task) - 1) > 0:
                self._calls[task] = left

    def in_flight(self) -> int:
        """Upstream calls running for the request now."""
        return sum(self._calls.values())

    def end(self) -> int:
        """The request is over: refuse new calls and cancel those running (the current task
        excepted). Returns how many tasks were cancelled."""
        self.ended = True
        current = asyncio.current_task()
        cancelled = 0
        for task in list(self._calls):
            if task is not current and not task.done():
                task.cancel()
                cancelled += 1
        return cancelled


def current_scope() -> RequestScope | None:
    """The scope of the request this task works for, if it runs inside one."""
    return _current.get()


@contextlib.contextmanager
def request_scope(seconds: float) -> Iterator[RequestScope]:
    """Open a scope for a request with a deadline ``seconds`` from now; tasks started inside
    the block inherit it. Leaving the block ends it (:meth:`RequestScope.end`)."""
    scope = RequestScope(seconds)
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)
        scope.end()
