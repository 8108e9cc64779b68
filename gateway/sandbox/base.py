"""What every provider simulator shares: auth, fault injection, a request log and admin routes.

A simulator module supplies its routes, its own error shape and an auth check; :func:`build_app`
wraps them in :class:`SandboxMiddleware`, which logs each request, applies the configured faults
and rejects bad keys in the provider's own 401 shape.

Admin routes (never logged, never faulted, no auth):

- ``GET /__sandbox/requests``: ``{"count": N, "requests": [{method, path, query, ...}]}``
- ``DELETE /__sandbox/requests``: clears the log
- ``GET /__sandbox/faults``, ``POST /__sandbox/faults`` (JSON, fields of :class:`Faults`;
  ``{"reset": true}`` first restores the defaults), ``DELETE /__sandbox/faults``
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.sandbox.faults import FaultError, Faults

ADMIN_PREFIX = "/__sandbox"


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: str
    status: int
    at: float


# Headers kept in the request log; credentials are never logged.
_LOGGED_HEADERS = ("idempotency-key", "content-type", "stripe-version", "user-agent", "traceparent")


@dataclass(slots=True)
class SimulatorState:
    """Per-simulator mutable state reachable from routes as ``request.app.state.sandbox``."""

    name: str
    api_key: str
    faults: Faults = field(default_factory=Faults)
    log: list[LoggedRequest] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def set_faults(self, faults: Faults) -> None:
        self.faults = faults
        self.rng = random.Random(faults.seed)


ErrorResponder = Callable[[int, str], Response]
"""Builds a response in the provider's own error shape for a status and message."""
AuthCheck = Callable[[Request, str], bool]
"""Whether a request carries the simulator's key (the second argument)."""


class SandboxMiddleware:
    """Logs, faults and authenticates every non-admin request of one simulator."""

    def __init__(
        self,
        app: ASGIApp,
        state: SimulatorState,
        error_response: ErrorResponder,
        is_authorized: AuthCheck,
    ) -> None:
        self.app = app
        self.state = state
        self.error_response = error_response
        self.is_authorized = is_authorized

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        if scope["type"] != "http" or path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        body = await request.body()

        replayed = False

        async def replay_receive() -> Message:
            # The body once, then the real channel: a streaming response waits on it for the
            # client's disconnect, and a receive that never blocks would spin forever.
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        logged = False

        def log(status: int) -> None:
            # Logged when the answer starts, not after it is sent: a client that has read its
            # response must find the entry (a threaded test server would otherwise race it).
            nonlocal logged
            if logged:
                return
            logged = True
            self.state.log.append(
                LoggedRequest(
                    method=request.method,
                    path=scope["path"],
                    query=scope.get("query_string", b"").decode("latin-1"),
                    headers={
                        h: request.headers[h] for h in _LOGGED_HEADERS if h in request.headers
                    },
                    body=body.decode("utf-8", "replace"),
                    status=status,
                    at=time.time(),
                )
            )

        async def logging_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                log(message["status"])
            await send(message)

        try:
            response = await self._fault_response(request)
            if response is None and not self.is_authorized(request, self.state.api_key):
                response = self._unauthorized()
            if response is not None:
                await response(scope, replay_receive, logging_send)
            else:
                await self._call_app(scope, replay_receive, logging_send)
        finally:
            log(500)  # no answer started: the server turns an unhandled error into a 500

    def _unauthorized(self) -> Response:
        return self.error_response(401, "Invalid API key provided.")

    async def _call_app(self, scope: Scope, receive: Receive, send: Send) -> None:
        faults = self.state.faults
        malformed = faults.malformed_next > 0 or (
            faults.malformed_rate > 0 and self.state.rng.random() < faults.malformed_rate
        )
        if malformed:
            faults.malformed_next = max(0, faults.malformed_next - 1)
        if not malformed and faults.slow_body_ms <= 0:
            await self.app(scope, receive, send)
            return
        # Capture the real answer, then corrupt it or dribble it out slowly.
        captured: dict[str, Any] = {"headers": [], "status": 200}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = message.get("headers", [])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        payload = b"".join(chunks)
        headers = {
            k.decode(): v.decode()
            for k, v in captured["headers"]
            if k.lower() not in (b"content-length",)
        }
        if malformed:
            payload = payload[: max(1, len(payload) // 2)] + b'{"truncated'
        if faults.slow_body_ms > 0:
            response: Response = StreamingResponse(
                _dribble(payload, faults.slow_body_ms / 1000),
                status_code=captured["status"],
                headers=headers,
            )
        else:
            response = Response(payload, status_code=captured["status"], headers=headers)
        await response(scope, receive, send)

    async def _fault_response(self, request: Request) -> Response | None:
        faults = self.state.faults
        rng = self.state.rng
        delay = faults.latency_ms + (rng.uniform(0, faults.jitter_ms) if faults.jitter_ms else 0)
        if delay > 0:
            await asyncio.sleep(delay / 1000)
        if faults.outage:
            return PlainTextResponse("503 Service Unavailable", status_code=503)
        if faults.next_statuses:
            return self._status_response(faults.next_statuses.pop(0))
        if faults.rate_limit_rate > 0 and rng.random() < faults.rate_limit_rate:
            return self._status_response(429)
        if faults.error_rate > 0 and rng.random() < faults.error_rate:
            return self._status_response(faults.error_status)
        return None

    def _status_response(self, status: int) -> Response:
        if status == 401:
            return self._unauthorized()
        message = {
            429: "Too many requests hit the API too quickly.",
            503: "The service is temporarily unavailable.",
        }.get(status, "An injected sandbox error occurred.")
        response = self.error_response(status, message)
        if status == 429:
            response.headers["Retry-After"] = f"{self.state.faults.retry_after:g}"
        return response


async def _dribble(payload: bytes, total_seconds: float) -> AsyncIterator[bytes]:
    pieces = 4
    size = max(1, -(-len(payload) // pieces))
    for start in range(0, len(payload), size):
        await asyncio.sleep(total_seconds / pieces)
        yield payload[start : start + size]


def _admin_routes(state: SimulatorState) -> list[BaseRoute]:
    async def requests_log(request: Request) -> Response:
        if request.method == "DELETE":
            state.log.clear()
            return JSONResponse({"provider": state.name, "count": 0, "requests": []})
        entries = [asdict(entry) for entry in state.log]
        return JSONResponse({"provider": state.name, "count": len(entries), "requests": entries})

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            state.set_faults(Faults())
        elif request.method == "POST":
            try:
                data = json.loads(await request.body() or b"{}")
                if not isinstance(data, dict):
                    raise ValueError("body must be a JSON object")
                state.set_faults(Faults.from_json(data, state.faults))
            except FaultError as exc:
                return JSONResponse({"error": str(exc), "field": exc.field}, status_code=400)
            except (ValueError, TypeError) as exc:
                return JSONResponse({"error": f"invalid JSON body: {exc}"}, status_code=400)
        return JSONResponse({"provider": state.name, "faults": asdict(state.faults)})

    return [
        Route(f"{ADMIN_PREFIX}/requests", requests_log, methods=["GET", "DELETE"]),
        Route(f"{ADMIN_PREFIX}/faults", faults, methods=["GET", "POST", "DELETE"]),
    ]


def build_app(
    state: SimulatorState,
    routes: Sequence[BaseRoute],
    *,
    error_response: ErrorResponder,
    is_authorized: AuthCheck,
    not_found: Callable[[Request, Exception], Awaitable[Response]] | None = None,
) -> Starlette:
    """The provider's routes behind :class:`SandboxMiddleware`, plus the admin routes."""

    async def default_not_found(request: Request, exc: Exception) -> Response:
        url = request.url.path
        return error_response(404, f"Unrecognized request URL ({request.method}: {url}).")

    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        response = error_response(
            405, f"Method {request.method} not allowed for {request.url.path}."
        )
        allow = getattr(exc, "headers", None) or {}
        if "Allow" in allow:
            response.headers["Allow"] = allow["Allow"]
        return response

    app = Starlette(
        routes=[*_admin_routes(state), *routes],
        exception_handlers={404: not_found or default_not_found, 405: method_not_allowed},
    )
    app.state.sandbox = state
    app.add_middleware(
        SandboxMiddleware,
        state=state,
        error_response=error_response,
        is_authorized=is_authorized,
    )
    return app


def simulator_state(app: Starlette) -> SimulatorState:
    state: SimulatorState = app.state.sandbox
    return state
