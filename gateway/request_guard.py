"""The limits one GraphQL request lives within at the HTTP edge: how much it may send, how long
it may run, and that it stops when its client hangs up.

:class:`RequestGuard` wraps the GraphQL view's work for one request (gateway/graphql_view.py):

- the body is read here first, at most ``max_body_bytes`` of it (a larger ``Content-Length`` is
  refused before reading; a body without one is counted while it arrives), and a query string
  over the same limit is refused too: :class:`Refused`, answered 413/414 ``REQUEST_TOO_LARGE``;
- the work runs in its own task under a :func:`~gateway.request_scope.request_scope`, so every
  upstream call it causes ends by the request's deadline; should the work still run a grace
  period (:data:`DEADLINE_GRACE`) past it, it is cancelled and answered 504 ``REQUEST_TIMEOUT``;
- meanwhile the ASGI receive channel is watched for ``http.disconnect``: a client that hangs
  up gets its work cancelled (one info line, status 499 in the access log), dataloader batches
  and all, unless the request already sent a write upstream, which then finishes within the
  deadline so no write is left half-done.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Message, Receive, Scope

from gateway.config import Settings
from gateway.config import schema as s
from gateway.errors import ErrorCode
from gateway.request_scope import RequestScope, request_scope

__all__ = ["CLIENT_CLOSED", "DEADLINE_GRACE", "Refused", "RequestGuard", "RequestLimits"]

logger = logging.getLogger("customer_gateway.limits")

DEADLINE_GRACE: Final = 1.0
"""Seconds past the request deadline the work may take to turn the upstream calls the deadline
ended into an answer, before it is cancelled."""
CLIENT_CLOSED: Final = 499
"""The access log's status for a request whose client hung up (nginx's convention); the client
never sees it."""


@dataclass(frozen=True, slots=True)
class RequestLimits:
    deadline: float = s.REQUEST_DEADLINE.default
    max_body_bytes: int = s.MAX_BODY_BYTES.default
    grace: float = DEADLINE_GRACE

    @classmethod
    def for_scope(cls, scope: Scope) -> RequestLimits:
        """The limits of the app serving ``scope`` (its settings), else the defaults."""
        app = scope.get("app")
        settings = getattr(getattr(app, "state", None), "settings", None)
        if isinstance(settings, Settings):
            return cls(settings.request_deadline, settings.max_body_bytes)
        return cls()


class Refused(Exception):
    """A request refused (too large to read) or cut off (past its deadline); the view answers
    it as a GraphQL error, with ``data: null`` only when it had started to run."""

    def __init__(self, message: str, code: ErrorCode, status: int, *, ran: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.ran = ran


class RequestGuard:
    """One request's body limit, deadline and disconnect watch; see the module docstring."""

    def __init__(self, scope: Scope, receive: Receive, limits: RequestLimits | None = None) -> None:
        self._scope = scope
        self._receive = receive
        self.limits = limits or RequestLimits.for_scope(scope)
        self._body: bytes | None = None
        self._gone = asyncio.Event()
        self._hung_up = False
        """Whether the watch cancelled the work because the client hung up."""

    async def receive(self) -> Message:
        """The channel the view reads: the body read by :meth:`run`, once, then (as ASGI has
        it) a disconnect once the client has gone."""
        if self._body is not None:
            body, self._body = self._body, None
            return {"type": "http.request", "body": body, "more_body": False}
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def run(self, work: Callable[[], Awaitable[Response]]) -> Response:
        """``work()``'s response, within the limits; raises :class:`Refused` for a request too
        large to read, and lets ``work``'s own exceptions through.

        The work runs in the request's own task (a task of its own and ``asyncio.wait`` cost
        ~18 µs a request); the deadline is an ``asyncio.timeout`` around it, and the watch,
        the one extra task, cancels it when the client hangs up."""
        started = time.monotonic()
        self._check_query_string()
        if not await self._read_body():
            return self._client_closed(started, None)
        task = asyncio.current_task()
        assert task is not None
        with request_scope(self.limits.deadline) as scope:
            watch = asyncio.create_task(self._watch(task, scope))
            try:
                async with asyncio.timeout(scope.remaining() + self.limits.grace) as deadline:
                    response = await work()
                if self._hung_up:  # the work swallowed the watch's cancellation
                    task.uncancel()
                return response
            except asyncio.CancelledError:
                if not self._hung_up:
                    raise
                task.uncancel()
                return self._client_closed(started, scope)
            except TimeoutError:
                if not deadline.expired():
                    raise
            finally:
                watch.cancel()
        logger.warning("request ran past its %gs deadline; cancelled it", self.limits.deadline)
        raise Refused(
            f"the request did not finish within its {self.limits.deadline:g}s deadline",
            ErrorCode.REQUEST_TIMEOUT,
            504,
            ran=True,
        )

    def _check_query_string(self) -> None:
        limit = self.limits.max_body_bytes
        if len(self._scope.get("query_string", b"")) > limit:
            raise Refused(
                f"the query string is longer than the {limit} bytes allowed",
                ErrorCode.REQUEST_TOO_LARGE,
                414,
            )

    async def _read_body(self) -> bool:
        """Read the whole body, never more than the limit; ``False`` if the client hung up."""
        limit = self.limits.max_body_bytes
        declared = Headers(scope=self._scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self._gone.set()
                return False
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                self._body = b"".join(chunks)
                return True

    async def _watch(self, work: asyncio.Task[object], scope: RequestScope) -> None:
        """Wait on the real channel for the client to hang up (the body is already read), then
        cancel the work, unless it sent a write upstream: that finishes within the deadline
        so no write is left half-done."""
        while (await self._receive())["type"] != "http.disconnect":
            pass
        self._gone.set()
        if scope.wrote:
            logger.info("client disconnected during a write; letting the write finish")
            return
        self._hung_up = True
        work.cancel()

    def _client_closed(self, started: float, scope: RequestScope | None) -> Response:
        logger.info(
            "client disconnected after %.2fs; request cancelled",
            time.monotonic() - started,
            extra={
                "method": self._scope.get("method"),
                "path": self._scope.get("path"),
                "upstream_calls_cancelled": scope.end() if scope is not None else 0,
            },
        )
        return Response(status_code=CLIENT_CLOSED)


def _too_large(limit: int) -> Refused:
    return Refused(
        f"the request body is larger than the {limit} bytes allowed",
        ErrorCode.REQUEST_TOO_LARGE,
        413,
    )
