"""FirstOfficer's customer routes under ``/v2``, its error shape and its two auth schemes."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.providers.firstofficer.simulator.shape import (
    Refused,
    check_email,
    check_stripe_id,
    seed_record,
)
from gateway.providers.firstofficer.simulator.store import CustomerStore
from gateway.sandbox.auth import basic_credentials, same_key
from gateway.sandbox.base import SimulatorState, build_app
from gateway.sandbox.coerce import query_int
from gateway.sandbox.forms import read_form
from gateway.sandbox.stores import attach_store, store_of

SANDBOX_KEY: Final = "sandbox"
"""The API key the simulator accepts unless told otherwise."""

NAME: Final = "firstofficer"
DEFAULT_LIMIT: Final = 10
MAX_LIMIT: Final = 100

_TOKEN_RE: Final = re.compile(r'^\s*token\s+token\s*=\s*"?([^",\s]*)"?', re.IGNORECASE)


def error_response(status: int, message: str, param: str | None = None) -> Response:
    """FirstOfficer's error body (Stripe-like); 5xx use ``api_error`` (inferred)."""
    error: dict[str, Any] = {
        "type": "api_error" if status >= 500 else "invalid_request_error",
        "message": message,
    }
    if param is not None:
        error["param"] = param
    return JSONResponse({"error": error}, status_code=status)


def _refused(exc: Refused) -> Response:
    return error_response(400, exc.message, exc.param)


def request_key(request: Request) -> str | None:
    """The key from ``Token token="KEY"`` or Basic ``KEY:`` (password ignored)."""
    header = request.headers.get("authorization", "")
    if header.strip().partition(" ")[0].lower() == "token":
        match = _TOKEN_RE.match(header)
        return (match.group(1) or None) if match else None
    credentials = basic_credentials(request)
    return (credentials[0] or None) if credentials is not None else None


def is_authorized(request: Request, api_key: str) -> bool:
    return same_key(request_key(request), api_key)


def _store(request: Request) -> CustomerStore:
    return store_of(request.app, CustomerStore)


async def _form(request: Request) -> dict[str, str]:
    """The url-encoded body, last value winning; empty values kept, as they clear fields."""
    return dict(await read_form(request))


def _not_found(identifier: str) -> Response:
    return error_response(404, f"No such customer: '{identifier}'", "id")


async def list_customers(request: Request) -> Response:
    """Pages by ``limit`` (clamped to 1-100) and ``starting_after``; never an error."""
    store = _store(request)
    limit = query_int(request.query_params.get("limit"))
    limit = min(max(DEFAULT_LIMIT if limit is None else limit, 1), MAX_LIMIT)
    after_raw = request.query_params.get("starting_after")
    if after_raw is None:
        page, has_more = store.page_after(None, limit)
    elif after_raw.isascii() and after_raw.isdigit():
        page, has_more = store.page_after(int(after_raw), limit)
    else:
        page, has_more = [], False  # a non-integer id matches nothing (inferred)
    return JSONResponse({"object": "list", "has_more": has_more, "data": page})


async def create_customer(request: Request) -> Response:
    store = _store(request)
    form = await _form(request)
    email = form.get("email", "").strip()
    if not email:
        return error_response(400, "Missing required param: email.", "email")
    stripe_id = form.get("stripe_id") or None
    try:
        check_email(email)
        store.refuse_taken("email", email)
        if stripe_id is not None:
            check_stripe_id(stripe_id)
            store.refuse_taken("stripe_id", stripe_id)
        customer = seed_record(
            {
                "email": email,
                "name": form.get("name") or None,
                "extra_id": form.get("extra_id") or None,
                "stripe_id": stripe_id,
            }
        )
        return JSONResponse(store.add(customer))
    except Refused as exc:
        return _refused(exc)


async def get_customer(request: Request) -> Response:
    identifier = request.path_params["customer_id"]
    customer = _store(request).resolve(identifier)
    return JSONResponse(customer) if customer else _not_found(identifier)


async def update_customer(request: Request) -> Response:
    """Changes ``extra_id``/``email``/``name``; omitted params stay, empty ones clear."""
    store = _store(request)
    identifier = request.path_params["customer_id"]
    customer = store.resolve(identifier)
    if customer is None:
        return _not_found(identifier)
    form = await _form(request)
    changes: dict[str, Any] = {}
    if "email" in form:
        email = form["email"].strip()
        try:
            check_email(email)
            store.refuse_taken("email", email, customer["id"])
        except Refused as exc:
            return _refused(exc)
        changes["email"] = email
    for key in ("extra_id", "name"):
        if key in form:
            changes[key] = form[key] or None
    store.update(customer, changes)
    return JSONResponse(customer)


ROUTES: Final = (
    Route("/v2/customers", list_customers, methods=["GET"]),
    Route("/v2/customers", create_customer, methods=["POST"]),
    Route("/v2/customers/{customer_id:path}", get_customer, methods=["GET"]),
    Route("/v2/customers/{customer_id:path}", update_customer, methods=["PUT"]),
)
"""There is no DELETE: the router answers 405 in the error shape above."""


def create_app(
    records: Sequence[Mapping[str, Any]] = (), *, api_key: str = SANDBOX_KEY
) -> Starlette:
    """A FirstOfficer simulator seeded with ``records`` (FirstOfficer customer objects)."""
    store = CustomerStore()
    for record in records:
        store.add(seed_record(record))
    app = build_app(
        SimulatorState(NAME, api_key),
        ROUTES,
        error_response=lambda status, message: error_response(status, message),
        is_authorized=is_authorized,
    )
    attach_store(app, store)
    return app
