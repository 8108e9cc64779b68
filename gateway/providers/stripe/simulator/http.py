"""Stripe's routes: the shared customer routes plus ``GET /v1/customers/search``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.providers.stripe.simulator.search import (
    SEARCH_INDEX,
    decode_page,
    encode_page,
    parse_query,
)
from gateway.providers.stripe.simulator.shape import STRIPE
from gateway.providers.stripe.simulator.store import stripe_store
from gateway.providers.stripe_like.simulator import (
    JSON,
    CustomerApi,
    ErrorStyle,
    check_known,
    customer_api,
    customer_app,
    guard,
    missing_parameter,
    parse_limit,
    query_params,
    string_param,
)

SANDBOX_KEY: Final = "sk_test_sandbox"
"""The API key the simulator accepts unless told otherwise."""

STRIPE_ERRORS = ErrorStyle(
    doc_url=lambda code: (
        f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}" if code else None
    )
)


async def search_customers(request: Request) -> Response:
    store = customer_api(request.app).store
    params = query_params(request)
    check_known(params, {"query", "limit", "page", "expand"})
    if not params.get("query"):
        raise missing_parameter("query")
    text = string_param(params, "query") or ""
    query = parse_query(text)
    limit = parse_limit(params)
    after = decode_page(params["page"], text) if params.get("page") else None
    # An indexable query narrows the records to check; the check itself is the same.
    keys = query.index_keys()
    candidates = None if keys is None else store.lookup(SEARCH_INDEX, keys)
    matching = [(r, obj) for r, obj in store.searchable(candidates) if query.matches(obj)]
    hits = [(r, obj) for r, obj in matching if after is None or r.sort_key() > after]
    page = hits[:limit]
    has_more = len(hits) > limit
    body: JSON = {
        "object": "search_result",
        "url": "/v1/customers/search",
        "has_more": has_more,
        "data": [obj for _, obj in page],
        "next_page": encode_page(page[-1][0], text) if has_more else None,
    }
    expand = params.get("expand", [])
    if isinstance(expand, list) and "total_count" in expand:
        body["total_count"] = len(matching)
    return JSONResponse(body)


def create_app(
    records: Sequence[Mapping[str, Any]] = (),
    *,
    api_key: str = SANDBOX_KEY,
    search_lag_seconds: float = 0.0,
) -> Starlette:
    """A Stripe simulator seeded with ``records`` (Stripe customer objects, possibly partial).

    ``search_lag_seconds`` delays search visibility of writes, like Stripe's index; it can be
    changed later through ``customer_api(app).store.search_lag_seconds``.
    """
    store = stripe_store(records, search_lag_seconds=search_lag_seconds)
    api = CustomerApi(STRIPE, store, STRIPE_ERRORS)
    search = Route("/v1/customers/search", guard(search_customers), methods=["GET"])
    return customer_app("stripe", api_key, api, routes=[search])
