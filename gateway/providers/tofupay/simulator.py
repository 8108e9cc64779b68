"""Tofupay customers simulator: a Stripe-like API with the legacy customer shape.

Paths, auth, form encoding, errors, idempotency and list cursors are Stripe's (shared in
:mod:`gateway.providers.stripe_like.simulator`). The customer object is the older one from
Tofupay's docs: ``account_balance``, ``sources`` and ``subscriptions`` list objects, no
name/phone/address. There is no search endpoint.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.providers.stripe_like.simulator import (
    JSON,
    ApiError,
    CustomerApi,
    CustomerStore,
    ErrorStyle,
    email_param,
    generate_id,
    int_param,
    key_matches,
    merge_metadata,
    seed_customer,
    seed_store,
    string_param,
)
from gateway.sandbox.base import SimulatorState, build_app

SANDBOX_KEY: Final = "sk_test_sandbox"
"""The API key the simulator accepts unless told otherwise."""

TOFUPAY_ERRORS = ErrorStyle(doc_url=lambda code: "https://tofupay.com/docs/api#errors")
_TOKEN = re.compile(r"^tok_[A-Za-z0-9_]+$")


def list_object(url: str, data: list[JSON]) -> JSON:
    return {"object": "list", "total_count": len(data), "has_more": False, "url": url, "data": data}


def default_customer(customer_id: str, created: int) -> JSON:
    """A customer with every field of Tofupay's documented object at its default."""
    return {
        "object": "customer",
        "created": created,
        "id": customer_id,
        "livemode": False,
        "description": None,
        "email": None,
        "delinquent": False,
        "metadata": {},
        "subscriptions": list_object(f"/v1/customers/{customer_id}/subscriptions", []),
        "discount": None,
        "account_balance": 0,
        "currency": None,
        "sources": list_object(f"/v1/customers/{customer_id}/sources", []),
        "default_source": None,
    }


def card_source(customer_id: str, now: dt.datetime) -> JSON:
    """The card a test token stands for (Tofupay's test cards end in 4242)."""
    return {
        "id": generate_id("card_", 24),
        "object": "card",
        "last4": "4242",
        "brand": "Visa",
        "funding": "credit",
        "exp_month": 12,
        "exp_year": now.year + 3,
        "country": "US",
        "name": None,
        "address_line1": None,
        "address_line2": None,
        "address_city": None,
        "address_state": None,
        "address_zip": None,
        "address_country": None,
        "cvc_check": "pass",
        "address_line1_check": None,
        "address_zip_check": None,
        "dynamic_last4": None,
        "metadata": {},
        "customer": customer_id,
    }


def seed_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A seed customer completed with defaults; raises ``ValueError`` naming a bad field."""
    obj = seed_customer(
        record,
        provider="Tofupay",
        defaults=default_customer,
        string_fields=("email", "description", "currency"),
        balance_field="account_balance",
    )
    if obj.get("deleted"):
        return obj
    customer_id = obj["id"]
    for key in ("sources", "subscriptions"):
        if not isinstance(obj[key], dict) or not isinstance(obj[key].get("data"), list):
            raise ValueError(f"{customer_id}: {key} must be a list object with data")
    return obj


class TofupayCustomers(CustomerApi):
    """Tofupay's legacy customer object on top of the shared customers resource."""

    create_params: ClassVar[frozenset[str]] = frozenset(
        {"account_balance", "card", "description", "email", "expand", "metadata", "source"}
    )
    update_params: ClassVar[frozenset[str]] = create_params

    def new_customer(self, customer_id: str, created: int, params: Mapping[str, Any]) -> JSON:
        obj = default_customer(customer_id, created)
        self.apply_params(obj, params)
        return obj

    def apply_params(self, obj: JSON, params: Mapping[str, Any]) -> None:
        if "email" in params:
            obj["email"] = email_param(params)
        if "description" in params:
            obj["description"] = string_param(params, "description")
        if "account_balance" in params:
            obj["account_balance"] = int_param(params, "account_balance")
        if "metadata" in params:
            obj["metadata"] = merge_metadata(obj["metadata"], params["metadata"])
        # The docs name the parameter ``card``; their curl example sends ``source``. Both work.
        for name in ("card", "source"):
            if name in params:
                self._attach_card(obj, params[name], name)

    def _attach_card(self, obj: JSON, token: Any, param: str) -> None:
        """A new card replaces the customer's cards and becomes the default source."""
        if not isinstance(token, str) or not _TOKEN.match(token):
            shown = token if isinstance(token, str) else "a card hash"
            raise ApiError(
                400,
                f"No such token: '{shown}' (the sandbox accepts test tokens, tok_...)",
                code="resource_missing",
                param=param,
            )
        card = card_source(obj["id"], dt.datetime.now(dt.UTC))
        obj["sources"] = list_object(f"/v1/customers/{obj['id']}/sources", [card])
        obj["default_source"] = card["id"]

    def deleted_body(self, customer_id: str) -> JSON:
        return {"deleted": True, "id": customer_id}

    def email_key(self, email: str) -> str:
        """Tofupay's ``email`` filter: exact but case-insensitive.

        Tofupay's docs do not say how ``email`` matches; case-insensitive exact match is our
        documented assumption (unlike Stripe's list filter, which is case-sensitive).
        """
        return email.casefold()

    def routes(self) -> list[BaseRoute]:
        no_search = Route("/v1/customers/search", self._guard(self._no_search), methods=["GET"])
        return [no_search, *super().routes()]

    async def _no_search(self, request: Request) -> Response:
        raise ApiError(
            404, "Unrecognized request URL (GET: /v1/customers/search). Tofupay has no search API."
        )


def create_app(
    records: Sequence[Mapping[str, Any]] = (), *, api_key: str = SANDBOX_KEY
) -> Starlette:
    """A Tofupay simulator seeded with ``records`` (Tofupay customer objects, possibly partial)."""
    state = SimulatorState("tofupay", api_key)
    store = CustomerStore()
    seed_store(store, records, seed_record)
    api = TofupayCustomers(state, store, TOFUPAY_ERRORS)
    app = build_app(
        state, api.routes(), error_response=TOFUPAY_ERRORS.responder(), is_authorized=key_matches
    )
    app.state.customers = api
    return app
