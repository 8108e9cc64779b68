"""Tofupay customers adapter: a Stripe-like API with the legacy customer shape and no search.

Emails are resolved with the list endpoint's ``email`` filter, one call per distinct email, all
concurrent. Tofupay's customer has no name, phone or address; its balance is
``account_balance``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from gateway.providers.base import Capabilities, CustomerRecord, CustomerWrite, Lookup, Money
from gateway.providers.stripe_like import (
    MAX_PAGE_SIZE,
    JSONObject,
    StripeLikeAdapter,
    currency_code,
    email_key,
    gather_all,
    int_or_none,
    status_of,
    text_or_none,
    unix_datetime,
)

NAME: Final = "tofupay"
_PLAIN_FIELDS: Final = ("email", "description")


class TofupayAdapter(StripeLikeAdapter):
    """Tofupay customers through the resilient client."""

    name = NAME
    capabilities = Capabilities(
        lookups=frozenset({Lookup.ID, Lookup.EMAIL}),
        unique_lookups=frozenset({Lookup.ID}),
        list_page=True,
        max_page_size=MAX_PAGE_SIZE,
        create=True,
        update=True,
        delete=True,
        # The documented create/update parameters (plus Stripe-style metadata); there is no
        # name, phone, address or currency parameter.
        writable_fields=frozenset({"email", "description", "metadata"}),
    )

    def to_record(self, obj: Mapping[str, Any]) -> CustomerRecord:
        customer_id = str(obj["id"])
        if obj.get("deleted"):
            return CustomerRecord(provider=NAME, id=customer_id, raw=obj, deleted=True)
        currency = currency_code(obj.get("currency"))
        metrics: dict[str, Money | int] = {}
        balance = int_or_none(obj.get("account_balance"))
        if balance is not None:
            metrics["balance"] = Money(balance, currency or "usd")
        return CustomerRecord(
            provider=NAME,
            id=customer_id,
            raw=obj,
            email=text_or_none(obj.get("email")),
            currency=currency,
            created_at=unix_datetime(obj.get("created")),
            status=status_of(obj),
            metrics=metrics,
        )

    def write_params(self, write: CustomerWrite, *, creating: bool) -> dict[str, Any]:
        """Tofupay params; ``None`` clears (an empty value). Other fields are not stored."""
        given = write.given()
        params: dict[str, Any] = {
            field: given[field]
            for field in _PLAIN_FIELDS
            if field in given and not (creating and given[field] is None)
        }
        params.update(self.metadata_params(write, None, creating=creating))
        return params

    async def resolve(self, by: Lookup, values: Mapping[str, str]) -> dict[str, list[JSONObject]]:
        """``GET /v1/customers?email=`` per distinct email, concurrently (no search API).

        Answers are re-checked by trimmed, casefolded email, whatever the filter's own rules.
        """
        if by is not Lookup.EMAIL:
            return await super().resolve(by, values)
        keys = list(values)
        lists = await gather_all(self.list_customers([("email", values[key])]) for key in keys)
        return {
            key: [obj for obj in objs if _email_key_of(obj) == key]
            for key, objs in zip(keys, lists, strict=True)
        }


def _email_key_of(obj: Mapping[str, Any]) -> str | None:
    email = obj.get("email")
    return email_key(email) if isinstance(email, str) else None
