"""Tofupay's routes: the shared customer routes, and a 404 where Stripe has search."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.providers.stripe_like.simulator import (
    ApiError,
    CustomerApi,
    CustomerStore,
    ErrorStyle,
    customer_app,
    guard,
)
from gateway.providers.tofupay.simulator.shape import TOFUPAY

SANDBOX_KEY: Final = "sk_test_sandbox"
"""The API key the simulator accepts unless told otherwise."""

TOFUPAY_ERRORS = ErrorStyle(doc_url=lambda code: "https://tofupay.com/docs/api#errors")


async def no_search(request: Request) -> Response:
    raise ApiError(
        404, "Unrecognized request URL (GET: /v1/customers/search). Tofupay has no search API."
    )


def create_app(
    records: Sequence[Mapping[str, Any]] = (), *, api_key: str = SANDBOX_KEY
) -> Starlette:
    """A Tofupay simulator seeded with ``records`` (Tofupay customer objects, possibly partial)."""
    store = CustomerStore()
    TOFUPAY.seed_store(store, records)
    api = CustomerApi(TOFUPAY, store, TOFUPAY_ERRORS)
    search = Route("/v1/customers/search", guard(no_search), methods=["GET"])
    return customer_app("tofupay", api_key, api, routes=[search])
