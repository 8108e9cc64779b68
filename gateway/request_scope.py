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
import time
from contextvars import ContextVar
from typing import Final

from gateway.bound import Bound

__all__ = [
    "OpenScope",
    "RequestEnded",
    "RequestScope",
    "UpstreamCall",
    "current_scope",
    "request_scope",
]

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

    def call(self, *, write: bool = False) -> UpstreamCall:
        """``with scope.call():`` runs one upstream call for the request: refused
        (:class:`RequestEnded`) once the request has ended, cancelled by :meth:`end` while it
        runs."""
        return UpstreamCall(self, write)

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


class UpstreamCall:
    """One upstream call inside its request's scope, from entering the block to leaving it.
    A class, not a generator: there is one per upstream call."""

    __slots__ = ("_scope", "_task", "_write")

    def __init__(self, scope: RequestScope, write: bool) -> None:
        self._scope = scope
        self._write = write
        self._task: asyncio.Task[object] | None = None

    def __enter__(self) -> None:
        scope = self._scope
        if scope.ended:
            raise RequestEnded("the request has ended (answered, timed out or abandoned)")
        scope.wrote = scope.wrote or self._write
        # None only outside a task, which ProviderHTTP never is: then nothing is tracked.
        if (task := asyncio.current_task()) is not None:
            scope._calls[task] = scope._calls.get(task, 0) + 1
            self._task = task

    def __exit__(self, *exc_info: object) -> None:
        if (task := self._task) is not None:
            self._task = None
            calls = self._scope._calls
            if (left := calls.pop(task) - 1) > 0:
                calls[task] = left


def current_scope() -> RequestScope | None:
    """The scope of the request this task works for, if it runs inside one."""
    return _current.get()


def request_scope(seconds: float) -> OpenScope:
    """``with request_scope(seconds) as scope:`` opens a scope for a request with a deadline
    ``seconds`` from now; tasks started inside the block inherit it. Leaving the block ends it
    (:meth:`RequestScope.end`)."""
    return OpenScope(RequestScope(seconds))


class OpenScope(Bound[RequestScope | None, RequestScope]):
    """A request's scope: the current one inside the ``with`` block, ended when it is left."""

    __slots__ = ()

    def __init__(self, scope: RequestScope) -> None:
        super().__init__(_current, scope, scope)

    def __exit__(self, *exc_info: object) -> None:
        super().__exit__(*exc_info)
        self._given.end()
