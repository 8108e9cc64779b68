"""ChartMogul's customer and data source routes, its error answers and its Basic auth."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.providers.chartmogul.simulator.errors import ApiError, api_error
from gateway.providers.chartmogul.simulator.store import CustomerStore, page
from gateway.sandbox.auth import basic_credentials, same_key
from gateway.sandbox.base import SimulatorState, build_app
from gateway.sandbox.coerce import query_int
from gateway.sandbox.stores import attach_store, store_of

SANDBOX_KEY: Final = "sandbox"
"""The API key the simulator accepts unless told otherwise."""

MAX_PER_PAGE: Final = 200

_MESSAGES: Final = {
    401: "No valid API key provided",
    429: "Your request rate has exceeded our rate limit.",
}


def error_response(status: int, message: str) -> Response:
    """ChartMogul's ``{"code","message"}`` error body (used for auth, faults and routing)."""
    return JSONResponse({"code": status, "message": _MESSAGES.get(status, message)}, status)


def is_authorized(request: Request, api_key: str) -> bool:
    """Basic auth with the key as username and an empty (or the same) password; no Bearer."""
    credentials = basic_credentials(request)
    if credentials is None:
        return False
    username, password = credentials
    return same_key(username, api_key) and password in ("", username)


def _store(request: Request) -> CustomerStore:
    return store_of(request.app, CustomerStore)


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise api_error(400, "The request body must be a JSON object")
    return body


def _per_page(request: Request) -> int:
    raw = request.query_params.get("per_page")
    if raw is None:
        return MAX_PER_PAGE
    value = query_int(raw)
    if value is None or not 1 <= value <= MAX_PER_PAGE:
        raise api_error(
            400, f'Parameter "per_page" must be between 1 and {MAX_PER_PAGE}', "per_page"
        )
    return value


def _page(request: Request, records: Sequence[dict[str, Any]]) -> JSONResponse:
    """The requested cursor page of ``records``; the deprecated ``page`` parameter is refused."""
    if "page" in request.query_params:
        raise api_error(400, 'Parameter "page" is deprecated', "page")
    return JSONResponse(page(records, _per_page(request), request.query_params.get("cursor")))


Handler = Callable[[Request], Awaitable[Response]]


def _answers_errors(handler: Handler) -> Handler:
    """Renders an :class:`ApiError` raised by ``handler`` as ChartMogul's error answer."""

    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as exc:
            return JSONResponse(exc.body, exc.status)

    return wrapped


_FILTERS: Final = ("data_source_uuid", "external_id", "status", "system")


def _matches(record: Mapping[str, Any], query: Mapping[str, str]) -> bool:
    """The list filters; ``external_id`` and ``data_source_uuid`` also match merged records."""
    checks = (
        ("data_source_uuid", record["data_source_uuids"]),
        ("external_id", record["external_ids"]),
        ("status", [record["status"]]),
        ("system", [record["billing-system-type"]]),
    )
    return all(query[param] in values for param, values in checks if param in query)


@_answers_errors
async def list_customers(request: Request) -> Response:
    store = _store(request)
    query = {k: request.query_params[k] for k in _FILTERS if k in request.query_params}
    if "external_id" in query:
        candidates: Sequence[dict[str, Any]] = store.with_external_id(query["external_id"])
    else:
        candidates = store.in_order()
    return _page(request, [r for r in candidates if _matches(r, query)] if query else candidates)


@_answers_errors
async def search(request: Request) -> Response:
    """Case-insensitive email match ignoring surrounding whitespace (an assumption: emails
    imported with stray spaces are common and the real search is not documented either way);
    no match is a 404, as recorded from the API."""
    email = request.query_params.get("email")
    if not email:
        raise api_error(400, 'Parameter "email" is missing', "email")
    records = _store(request).with_email(email)
    if not records:
        raise api_error(404, f'Can\'t find any customers with email: "{email}"', "email")
    return _page(request, records)


@_answers_errors
async def create(request: Request) -> Response:
    return JSONResponse(_store(request).create(await _json_body(request)), 201)


@_answers_errors
async def customer(request: Request) -> Response:
    store = _store(request)
    customer_uuid = request.path_params["uuid"]
    if request.method == "GET":
        return JSONResponse(store.get(customer_uuid))
    if request.method == "DELETE":
        store.delete(customer_uuid)
        return Response(status_code=204)
    return JSONResponse(store.update(customer_uuid, await _json_body(request)))


@_answers_errors
async def merge(request: Request) -> Response:
    """202 with ``{}``: the real API's recorded answer (providers.md says an empty body)."""
    _store(request).merge(await _json_body(request))
    return JSONResponse({}, 202)


async def data_sources(request: Request) -> Response:
    sources = _store(request).data_sources.values()
    return JSONResponse({"data_sources": [d.to_json() for d in sources]})


ROUTES: Final = (
    Route("/v1/customers", list_customers, methods=["GET"]),
    Route("/v1/customers", create, methods=["POST"]),
    Route("/v1/customers/search", search, methods=["GET"]),
    Route("/v1/customers/merges", merge, methods=["POST"]),
    Route("/v1/customers/{uuid}", customer, methods=["GET", "PATCH", "PUT", "DELETE"]),
    Route("/v1/data_sources", data_sources, methods=["GET"]),
)


def create_app(
    records: Sequence[Mapping[str, Any]] = (), *, api_key: str = SANDBOX_KEY
) -> Starlette:
    """A ChartMogul simulator seeded with ``records`` (customer objects, possibly minimal)."""
    store = CustomerStore(records)
    app = build_app(
        SimulatorState("chartmogul", api_key),
        ROUTES,
        error_response=error_response,
        is_authorized=is_authorized,
    )
    attach_store(app, store)
    return app
