"""The ``/v1/customers`` routes in Stripe's conventions, its auth and its response headers.

A simulator's state sits at ``app.state.customers`` (a :class:`CustomerApi`: the provider's
shape, the store and the idempotency store), next to :mod:`gateway.sandbox.base`'s
``app.state.sandbox``; routes and tests reach it through :func:`customer_api`.

Every API response carries a fresh ``Request-Id: req_...`` (successes, errors, 401s, replays).
A POST with an ``Idempotency-Key`` also carries the key and ``Original-Request`` (the request
id of the response being replayed, or its own); a replay adds ``Idempotent-Replayed: true``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.providers.stripe_like.simulator import endpoints, events
from gateway.providers.stripe_like.simulator.errors import (
    JSON,
    ApiError,
    ErrorStyle,
    missing_customer,
)
from gateway.providers.stripe_like.simulator.idempotency import (
    MAX_IDEMPOTENCY_KEY,
    IdempotencyStore,
    fingerprint,
)
from gateway.providers.stripe_like.simulator.paging import paginate
from gateway.providers.stripe_like.simulator.params import (
    check_known,
    cursor_param,
    form_params,
    parse_limit,
    query_params,
    string_param,
)
from gateway.providers.stripe_like.simulator.shape import CustomerShape
from gateway.providers.stripe_like.simulator.store import (
    CustomerStore,
    StoredCustomer,
    generate_id,
)
from gateway.sandbox.auth import basic_credentials, bearer_token, same_key
from gateway.sandbox.base import ADMIN_PREFIX, SimulatorState, build_app
from gateway.sandbox.webhooks import admin_routes

Handler = Callable[[Request], Awaitable[Response]]
LIST_EMAIL_INDEX = "list-email"


@dataclass(slots=True)
class CustomerApi:
    """Everything one Stripe-style customers API keeps, at ``app.state.customers``."""

    shape: CustomerShape
    store: CustomerStore
    errors: ErrorStyle
    idempotency: IdempotencyStore = field(init=False)
    events: events.EventLog = field(init=False)
    """Customer events (``/v1/events``) and the webhook endpoints they are delivered to."""
    endpoint_details: dict[str, JSON] = field(default_factory=dict)
    """Each webhook endpoint's description, metadata and API version."""

    def __post_init__(self) -> None:
        self.idempotency = IdempotencyStore(self.store.clock)
        self.events = events.EventLog(self.shape.api_version, self.store.clock)
        self.store.add_index(LIST_EMAIL_INDEX, self._list_email_keys)

    def _list_email_keys(self, obj: JSON) -> list[str]:
        email = obj.get("email")
        return [self.shape.email_key(email)] if isinstance(email, str) else []


def customer_api(app: Starlette) -> CustomerApi:
    """The :class:`CustomerApi` behind a simulator app."""
    api: CustomerApi = app.state.customers
    return api


# -- auth and headers ----------------------------------------------------------------------


def presented_key(request: Request) -> str | None:
    """The key from ``Authorization: Bearer k`` or Basic ``k:`` (Stripe takes both)."""
    token = bearer_token(request)
    if token is not None:
        return token
    credentials = basic_credentials(request)
    return (credentials[0] or None) if credentials else None


def is_authorized(request: Request, api_key: str) -> bool:
    return same_key(presented_key(request), api_key)


def mask_key(key: str) -> str:
    """Stripe's way of naming a bad key: the ``sk_test_`` prefix and last four characters only."""
    match = re.match(r"^((?:sk|rk|pk)_(?:test|live)_)(.*)$", key)
    prefix, rest = (match.group(1), match.group(2)) if match else ("", key)
    if len(rest) <= 8:
        return prefix + "*" * len(rest)
    return prefix + "*" * (len(rest) - 4) + rest[-4:]


class _UnauthorizedResponse(JSONResponse):
    """A 401 whose message names the presented key masked, like Stripe's.

    The shared middleware only passes a status and a message to the error responder, so the
    presented key is read from the request scope when the response is sent.
    """

    def __init__(self, style: ErrorStyle) -> None:
        self._style = style
        super().__init__({}, status_code=401)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = presented_key(Request(scope))
        if key is None:
            message = (
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY')."
            )
        else:
            message = f"Invalid API Key provided: {mask_key(key)}"
        self.body = self.render(self._style.body(message, type="invalid_request_error"))
        self.headers["content-length"] = str(len(self.body))
        await super().__call__(scope, receive, send)


def error_responder(style: ErrorStyle) -> Callable[[int, str], Response]:
    """The ``error_response`` for :func:`gateway.sandbox.base.build_app`."""

    def respond(status: int, message: str) -> Response:
        if status == 401:
            return _UnauthorizedResponse(style)
        error_type = "api_error" if status >= 500 else "invalid_request_error"
        return JSONResponse(style.body(message, type=error_type), status_code=status)

    return respond


class RequestIdMiddleware:
    """Gives every API request a ``req_`` id: in ``request.state.request_id`` and in the
    ``Request-Id`` header of whatever answers it (route, error, 401, injected fault)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        request_id = generate_id("req_")
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                MutableHeaders(scope=message)["Request-Id"] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)


def request_id(request: Request) -> str:
    value: str = request.state.request_id
    return value


# -- routes --------------------------------------------------------------------------------


def guard(handler: Handler) -> Handler:
    """``handler`` with its :class:`ApiError` s rendered in the provider's error shape."""

    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as error:
            return customer_api(request.app).errors.render(error)

    return guarded


async def idempotent(request: Request, params: JSON, action: Callable[[], JSON]) -> Response:
    """Run a POST once per ``Idempotency-Key``; replay its first response afterwards.

    Validation failures (400) are not saved, as Stripe does; any other outcome is.
    """
    key = request.headers.get("idempotency-key")
    if key is None:
        return JSONResponse(action())
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise ApiError(
            400,
            f"Idempotency keys can be at most {MAX_IDEMPOTENCY_KEY} characters long.",
            param="Idempotency-Key",
        )
    api = customer_api(request.app)
    endpoint = f"{request.method} {request.url.path}"
    digest = fingerprint(params)
    saved = api.idempotency.get(key)
    if saved is not None:
        if saved.endpoint != endpoint:
            raise ApiError(
                400,
                "Keys for idempotent requests can only be used for the same endpoint they "
                f"were first used for ('{saved.endpoint}' vs '{endpoint}'). Try using a key "
                "other than the one used before if you meant to execute a different request.",
                type="idempotency_error",
            )
        if saved.fingerprint != digest:
            raise ApiError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                type="idempotency_error",
            )
        headers = {
            "Idempotency-Key": key,
            "Original-Request": saved.request_id,
            "Idempotent-Replayed": "true",
        }
        return JSONResponse(saved.body, status_code=saved.status, headers=headers)
    try:
        body, status = action(), 200
    except ApiError as error:
        if error.status == 400:
            raise
        body, status = api.errors.error_body(error), error.status
    own_id = request_id(request)
    api.idempotency.save(key, endpoint, digest, status, body, own_id)
    headers = {"Idempotency-Key": key, "Original-Request": own_id}
    return JSONResponse(body, status_code=status, headers=headers)


async def create_customer(request: Request) -> Response:
    api = customer_api(request.app)
    params = form_params(await request.body())

    def action() -> JSON:
        check_known(params, api.shape.create_params)
        customer_id = api.store.new_id()
        obj = api.shape.new_customer(customer_id, int(api.store.clock()), params)
        api.store.add(obj)
        api.events.record("customer.created", obj, request)
        return obj

    return await idempotent(request, params, action)


async def retrieve_customer(request: Request) -> Response:
    api = customer_api(request.app)
    customer_id = request.path_params["id"]
    record = api.store.get(customer_id)
    if record is None:
        raise missing_customer(customer_id)
    if record.deleted:
        return JSONResponse({"id": customer_id, "object": "customer", "deleted": True})
    return JSONResponse(record.obj)


async def update_customer(request: Request) -> Response:
    api = customer_api(request.app)
    params = form_params(await request.body())
    customer_id = request.path_params["id"]

    def action() -> JSON:
        record = api.store.live(customer_id)
        check_known(params, api.shape.update_params)
        updated = copy.deepcopy(record.obj)
        api.shape.apply_params(updated, params)
        previous, record.obj = record.obj, updated
        api.store.save(record)
        if updated != previous:
            api.events.record("customer.updated", updated, request, previous=previous)
        return updated

    return await idempotent(request, params, action)


async def delete_customer(request: Request) -> Response:
    api = customer_api(request.app)
    customer_id = request.path_params["id"]
    record = api.store.live(customer_id)
    api.store.delete(record)
    api.events.record("customer.deleted", record.obj, request)
    return JSONResponse(api.shape.deleted_body(customer_id))


async def list_customers(request: Request) -> Response:
    api = customer_api(request.app)
    shape = api.shape
    params = query_params(request)
    check_known(params, shape.list_params)
    limit = parse_limit(params)
    email = string_param(params, "email", max_length=512) if "email" in params else None
    extra = shape.list_filter(params)

    def include(record: StoredCustomer) -> bool:
        if record.deleted:
            return False
        if email is not None and not shape.email_matches(record.obj.get("email"), email):
            return False
        return extra(record.obj)

    candidates: Sequence[StoredCustomer] = (
        api.store.in_order()
        if email is None
        else api.store.lookup(LIST_EMAIL_INDEX, [shape.email_key(email)])
    )
    page, has_more = paginate(
        candidates,
        lambda r: r.id,
        include,
        limit=limit,
        starting_after=cursor_param(params, "starting_after"),
        ending_before=cursor_param(params, "ending_before"),
        positions=api.store.positions(),
    )
    return JSONResponse(
        {
            "object": "list",
            "url": "/v1/customers",
            "has_more": has_more,
            "data": [record.obj for record in page],
        }
    )


async def list_events(request: Request) -> Response:
    return await events.list_events(request, customer_api(request.app).events)


async def retrieve_event(request: Request) -> Response:
    return await events.retrieve_event(request, customer_api(request.app).events)


async def webhook_endpoints(request: Request) -> Response:
    api = customer_api(request.app)
    handle = endpoints.create_endpoint if request.method == "POST" else endpoints.list_endpoints
    return await handle(request, api.events, api.endpoint_details)


async def webhook_endpoint(request: Request) -> Response:
    api = customer_api(request.app)
    return await endpoints.one_endpoint(request, api.events, api.endpoint_details)


def customer_routes() -> list[BaseRoute]:
    return [
        Route("/v1/events", guard(list_events), methods=["GET"]),
        Route("/v1/events/{id}", guard(retrieve_event), methods=["GET"]),
        Route(endpoints.PATH, guard(webhook_endpoints), methods=["GET", "POST"]),
        Route(f"{endpoints.PATH}/{{id}}", guard(webhook_endpoint), methods=["GET", "DELETE"]),
        Route("/v1/customers", guard(create_customer), methods=["POST"]),
        Route("/v1/customers", guard(list_customers), methods=["GET"]),
        Route("/v1/customers/{id}", guard(retrieve_customer), methods=["GET"]),
        Route("/v1/customers/{id}", guard(update_customer), methods=["POST"]),
        Route("/v1/customers/{id}", guard(delete_customer), methods=["DELETE"]),
    ]


def customer_app(
    name: str,
    api_key: str,
    api: CustomerApi,
    *,
    routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """A Stripe-style simulator: ``routes`` (matched first), the customer routes, Stripe's
    auth and errors, and a ``Request-Id`` on every answer."""
    app = build_app(
        SimulatorState(name, api_key),
        [*routes, *customer_routes(), *admin_routes(api.events.deliverer)],
        error_response=error_responder(api.errors),
        is_authorized=is_authorized,
    )
    app.state.customers = api
    app.add_middleware(RequestIdMiddleware)
    return app
