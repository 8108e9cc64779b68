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
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ADMIN_PREFIX = "/__sandbox"


@dataclass(slots=True)
class Faults:
    """Faults a simulator injects; all off by default.

    Rates are probabilities in [0, 1] drawn from a seeded RNG. ``next_statuses`` is a
    deterministic script: the next requests are answered with these statuses, one each, in order
    (``429`` ones carry ``Retry-After``), before normal service resumes.
    """

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    error_status: int = 500
    rate_limit_rate: float = 0.0
    retry_after: float = 1.0
    outage: bool = False
    malformed_rate: float = 0.0
    malformed_next: int = 0
    slow_body_ms: float = 0.0
    next_statuses: list[int] = field(default_factory=list)
    seed: int = 0

    @classmethod
    def from_json(cls, data: dict[str, Any], base: Faults | None = None) -> Faults:
        """Apply admin JSON on top of ``base``; a bad value raises :class:`FaultError` naming it."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known - {"reset"}
        if unknown:
            names = ", ".join(sorted(unknown))
            raise FaultError(sorted(unknown)[0], f"unknown fault settings: {names}")
        reset = data.get("reset", False)
        if not isinstance(reset, bool):
            raise FaultError("reset", f"reset: expected true or false, got {reset!r}")
        start = Faults() if base is None or reset else base
        updates = {k: _checked(k, v) for k, v in data.items() if k != "reset"}
        faults = replace(start, **updates)
        faults.next_statuses = list(faults.next_statuses)
        return faults


class FaultError(ValueError):
    """A fault setting the admin route rejects; ``field`` names the offending setting."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


_RATES = frozenset({"error_rate", "rate_limit_rate", "malformed_rate"})
_DURATIONS = frozenset({"latency_ms", "jitter_ms", "retry_after", "slow_body_ms"})


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _status(name: str, value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not _is_int(value) or not 100 <= value <= 599:
        raise FaultError(name, f"{name}: expected an HTTP status (100-599), got {value!r}")
    return int(value)


def _checked(name: str, value: Any) -> Any:
    """``value`` validated for fault setting ``name``, so a bad POST never breaks later requests."""
    if name in _RATES or name in _DURATIONS:
        if not (_is_int(value) or isinstance(value, float)) or value != value:
            raise FaultError(name, f"{name}: expected a number, got {value!r}")
        if name in _RATES and not 0 <= value <= 1:
            raise FaultError(name, f"{name}: expected a probability in [0, 1], got {value!r}")
        if value < 0 or value == float("inf"):
            raise FaultError(name, f"{name}: expected a finite number >= 0, got {value!r}")
        return float(value)
    if name == "outage":
        if not isinstance(value, bool):
            raise FaultError(name, f"{name}: expected true or false, got {value!r}")
        return value
    if name == "error_status":
        return _status(name, value)
    if name == "next_statuses":
        if not isinstance(value, list):
            raise FaultError(name, f"{name}: expected a list of HTTP statuses, got {value!r}")
        return [_status(name, item) for item in value]
    if name in ("malformed_next", "seed"):
        if not _is_int(value) or (name == "malformed_next" and value < 0):
            raise FaultError(name, f"{name}: expected a whole number >= 0, got {value!r}")
        return value
    raise FaultError(name, f"unknown fault settings: {name}")  # pragma: no cover


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
_LOGGED_HEADERS = ("idempotency-key", "content-type", "stripe-version", "user-agent")


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


async def read_form(request: Request) -> list[tuple[str, str]]:
    """Form fields in order, repeated keys kept (``metadata[a]=1&expand[]=x``)."""
    # Parsed here rather than with request.form(): that needs python-multipart, and drops the
    # blank values Stripe-style APIs use to clear a field (``metadata[k]=``).
    body = (await request.body()).decode("utf-8", "replace")
    return parse_qsl(body, keep_blank_values=True)


class _Seq:
    """A list being decoded: values by index (``[]`` appends), compacted in index order."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: dict[int, Any] = {}

    def next_index(self) -> int:
        return max(self.items, default=-1) + 1


_MAX_INDEX_DIGITS = 9


def _is_index(part: str) -> bool:
    """``[]`` or a plain ASCII number: the enclosing value is a list."""
    return part == "" or (part.isascii() and part.isdigit() and len(part) <= _MAX_INDEX_DIGITS)


def _key_parts(key: str) -> list[str]:
    head, bracket, rest = key.partition("[")
    if not bracket:
        return [key]
    return [head] + [piece.split("]", 1)[0] for piece in rest.split("[")]


def _finish(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _finish(v) for k, v in node.items()}
    if isinstance(node, _Seq):
        return [_finish(v) for _, v in sorted(node.items.items())]
    return node


class FormError(ValueError):
    """Two form keys disagree on a value's shape (``a=1&a[b]=2``); simulators answer 400."""


def _shape(node: Any) -> str:
    return "a list" if isinstance(node, _Seq) else "a hash" if isinstance(node, dict) else "a value"


def nest_form(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Decode Stripe-style bracket keys: ``address[city]=x`` -> ``{"address": {"city": "x"}}``.

    ``k[]=a&k[]=b`` gives a list; ``k[0][x]=1`` gives a list of dicts (indices are ordered and
    compacted, so ``k[5]=a`` alone is ``["a"]``). A repeated plain key keeps its last value. Keys
    that use one name both as a value and as a hash or list raise :class:`FormError` (a
    ``ValueError``), as Stripe rejects them.
    """
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = _key_parts(key)
        node: dict[str, Any] | _Seq = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if isinstance(node, _Seq):
                slot: Any = node.next_index() if part == "" or not _is_index(part) else int(part)
                container: dict[Any, Any] = node.items
            else:
                slot = part
                container = node
            child = container.get(slot)
            if last:
                if isinstance(child, dict | _Seq):
                    raise FormError(
                        f"{key}: {parts[0]!r} is used both as {_shape(child)} and a value"
                    )
                container[slot] = value
                break
            want_list = _is_index(parts[index + 1])
            if child is None:
                child = container[slot] = _Seq() if want_list else {}
            elif want_list != isinstance(child, _Seq) or isinstance(child, str):
                wanted = "a list" if want_list else "a hash"
                raise FormError(f"{key}: {parts[0]!r} is used both as {_shape(child)} and {wanted}")
            node = child
    finished: dict[str, Any] = _finish(root)
    return finished


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
