"""Tofupay customers adapter: a Stripe-like API with the legacy customer shape and no search.

Emails are resolved with the list endpoint's ``email`` filter, one call per distinct email, all
concurrent. Tofupay's customer has no name, phone or address; its balance is
``account_balance``.
"""

from __future__ import annotations

from typing import ClassVar, Final

from gateway.model import Lookup, WritableField
from gateway.providers.contract import Capabilities
from gateway.providers.stripe_like.adapter import (
    MAX_PAGE_SIZE,
    JSONObject,
    StripeLikeAdapter,
)

NAME: Final = "tofupay"


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
        change_feed=True,
        # The documented create/update parameters (plus Stripe-style metadata); there is no
        # name, phone, address or currency parameter.
        writable_fields=frozenset(
            {WritableField.EMAIL, WritableField.DESCRIPTION, WritableField.METADATA}
        ),
    )
    balance_field: ClassVar[str] = "account_balance"
    customer_fields: ClassVar[frozenset[str]] = frozenset({"email"})

    async def find(self, by: Lookup, value: str) -> list[JSONObject]:
        """``GET /v1/customers?email=`` (there is no search API), answers re-checked by email."""
        if by is not Lookup.EMAIL:
            return await super().find(by, value)
        return await self.list_by_email(value)
