"""Lago's customer routes, its error answers, its Bearer auth and its rate limit headers.

Every answer carries Lago's ``X-RateLimit-Limit``/``-Remaining``/``-Reset`` headers; the limit
is reported, not enforced (an injected 429 from the fault settings stands in for it, with
``X-RateLimit-Reset`` taken from ``Faults.retry_after`` and without ``Retry-After``, which Lago
does not send).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.providers.lago.simulator.errors import (
    LagoInvalid,
    LagoNotFound,
    error_body,
    invalid_body,
)
from gateway.providers.lago.simulator.seed import build_seed
from gateway.providers.lago.simulator.store import CustomerStore, ListQuery
from gateway.providers.lago.simulator.webhooks import (
    SANDBOX_HMAC_KEY,
    LagoWebhooks,
    webhook_routes,
    webhooks_of,
)
from gateway.sandbox.auth import bearer_token, same_key
from gateway.sandbox.base import ADMIN_PREFIX, SimulatorState, build_app
from gateway.sandbox.stores import attach_store, store_of

SANDBOX_KEY: Final = "sandbox"
"""The API key the simulator accepts unless told otherwise."""

NAME: Final = "lago"
CUSTOMERS: Final = "/api/v1/customers"
RATE_LIMIT: Final = 50
"""Documented requests per second per organisation for most endpoints."""


def error_response(status: int, message: str) -> Response:
    """For :func:`build_app`: injected faults, bad keys and unknown routes."""
    if status == 404:
        message = "not_found"
    return JSONResponse(error_body(status, message), status_code=status)


def _not_found(code: str) -> Response:
    return JSONResponse(error_body(404, code), status_code=404)


def is_authorized(request: Request, api_key: str) -> bool:
    """Lago takes ``Authorization: Bearer <key>`` only."""
    return same_key(bearer_token(request), api_key)


def _store(request: Request) -> CustomerStore:
    return store_of(request.app, CustomerStore)


async def upsert(request: Request) -> Response:
    """``POST /customers`` creates or updates by ``external_id`` (Lago's upsert)."""
    try:
        body = json.loads(await request.body() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return JSONResponse(error_body(400, "invalid JSON body"), status_code=400)
    params = body.get("customer") if isinstance(body, dict) else None
    if not isinstance(params, dict) or not params:
        message = "param is missing or the value is empty: customer"
        return JSONResponse(error_body(400, message), status_code=400)
    store = _store(request)
    before = store.customers.get(str(params.get("external_id")))
    previous = before.render() if before is not None else None
    try:
        customer = store.upsert(params)
    except LagoInvalid as exc:
        return JSONResponse(invalid_body(exc.details), status_code=422)
    except LagoNotFound as exc:
        return _not_found(exc.code)
    rendered = customer.render()
    if previous is None:
        webhooks_of(request.app).send("customer.created", rendered)
    elif _changed(previous, rendered):
        webhooks_of(request.app).send("customer.updated", rendered)
    return JSONResponse({"customer": rendered})


def _changed(previous: dict[str, Any], current: dict[str, Any]) -> bool:
    """Whether an upsert changed anything but ``updated_at`` (no-op upserts send nothing)."""
    ignored = {"updated_at"}
    return {k: v for k, v in previous.items() if k not in ignored} != {
        k: v for k, v in current.items() if k not in ignored
    }


async def index(request: Request) -> Response:
    """Pages by number, newest first, with Lago's ``meta`` block."""
    customers, meta = _store(request).page(ListQuery.from_params(request.query_params))
    return JSONResponse({"customers": [c.render() for c in customers], "meta": meta})


async def one(request: Request) -> Response:
    """``GET`` or ``DELETE`` one customer, named by its ``external_id``."""
    store = _store(request)
    external_id = request.path_params["external_customer_id"]
    try:
        if request.method == "DELETE":
            customer = store.delete(external_id)
        else:
            customer = store.get(external_id)
    except LagoNotFound as exc:
        return _not_found(exc.code)
    return JSONResponse({"customer": customer.render()})


ROUTES: Final = (
    Route(CUSTOMERS, upsert, methods=["POST"]),
    Route(CUSTOMERS, index, methods=["GET"]),
    Route(f"{CUSTOMERS}/{{external_customer_id:path}}", one, methods=["GET", "DELETE"]),
)


class RateLimitHeaders:
    """Adds Lago's ``X-RateLimit-*`` headers to every API answer, injected 429s included.

    Counts requests in one-second windows against :data:`RATE_LIMIT` (reported, not enforced).
    On a 429 ``Remaining`` is 0 and ``Reset`` is ``Faults.retry_after`` rounded up; the shared
    fault layer's ``Retry-After`` is dropped because Lago signals the wait only this way.
    """

    def __init__(self, app: ASGIApp, state: SimulatorState, limit: int = RATE_LIMIT) -> None:
        self.app = app
        self.state = state
        self.limit = limit
        self._window = 0
        self._count = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        now = time.time()
        window = math.floor(now)
        if window != self._window:
            self._window, self._count = window, 0
        self._count += 1
        remaining = max(0, self.limit - self._count)
        reset = max(0, math.ceil(window + 1 - now))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", []))
                headers = MutableHeaders(scope=message)
                limited = message["status"] == 429
                if limited and "retry-after" in headers:
                    del headers["retry-after"]
                wait = math.ceil(max(0.0, self.state.faults.retry_after))
                headers["X-RateLimit-Limit"] = str(self.limit)
                headers["X-RateLimit-Remaining"] = "0" if limited else str(remaining)
                headers["X-RateLimit-Reset"] = str(wait if limited else reset)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    records: Sequence[Mapping[str, Any]] = (),
    *,
    api_key: str = SANDBOX_KEY,
    hmac_key: str = SANDBOX_HMAC_KEY,
) -> Starlette:
    """A Lago simulator holding ``records`` (customer objects, possibly minimal); webhooks
    are signed with the organization's ``hmac_key``."""
    store = CustomerStore()
    for index, record in enumerate(records, start=1):
        try:
            customer = build_seed(record, max(index, store.next_sequence))
        except ValueError as exc:
            raise ValueError(f"invalid Lago seed record {index}: {exc}") from exc
        store.add(customer)
    state = SimulatorState(NAME, api_key)
    hooks = LagoWebhooks(hmac_key=hmac_key)
    routes = [*webhook_routes(hooks), *ROUTES]
    app = build_app(state, routes, error_response=error_response, is_authorized=is_authorized)
    app.state.webhooks = hooks
    attach_store(app, store)
    app.add_middleware(RateLimitHeaders, state=state)
    return app
