"""Tofupay's customer object: the legacy Stripe-like shape from Tofupay's docs.

``account_balance``, ``sources`` and ``subscriptions`` list objects, no name/phone/address.
Ids are ``cus_`` and letters or digits (``cus_5V50idQJ7fxkRX``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, ClassVar, Final

from gateway.providers.stripe_like.simulator import (
    JSON,
    ApiError,
    CustomerShape,
    Kind,
    email_param,
    generate_id,
    int_param,
    merge_metadata,
    string_param,
)
from gateway.providers.stripe_like.simulator.shape import (
    LIST_OBJECT,
    READ_ONLY_FIELDS,
    ReadOnlyCheck,
)

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


class TofupayShape(CustomerShape):
    """Tofupay's legacy customer object and parameters."""

    provider: ClassVar[str] = "Tofupay"
    create_params: ClassVar[frozenset[str]] = frozenset(
        {"account_balance", "card", "description", "email", "expand", "metadata", "source"}
    )
    update_params: ClassVar[frozenset[str]] = create_params
    seed_params: ClassVar[Mapping[str, Kind]] = {
        "account_balance": Kind.INTEGER,
        "description": Kind.STRING,
        "email": Kind.STRING,
        "metadata": Kind.HASH,
    }
    seed_fields: ClassVar[Mapping[str, ReadOnlyCheck]] = {
        **READ_ONLY_FIELDS,
        "sources": LIST_OBJECT,
        "subscriptions": LIST_OBJECT,
    }

    def defaults(self, customer_id: str, created: int) -> JSON:
        return default_customer(customer_id, created)

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
                _attach_card(obj, params[name], name)

    def deleted_body(self, customer_id: str) -> JSON:
        return {"deleted": True, "id": customer_id}

    def email_key(self, email: str) -> str:
        """Tofupay's ``email`` filter: exact but case-insensitive.

        Tofupay's docs do not say how ``email`` matches; case-insensitive exact match is our
        documented assumption (unlike Stripe's list filter, which is case-sensitive).
        """
        return email.casefold()


def _attach_card(obj: JSON, token: Any, param: str) -> None:
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


TOFUPAY: Final = TofupayShape()


def seed_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A seed customer completed with defaults; raises ``ValueError`` naming a bad field."""
    return TOFUPAY.seed(record)
