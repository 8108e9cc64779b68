"""Lago's record type in the GraphQL API (``Customer.lago``)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.providers import graphql as g
from gateway.providers.lago.adapter import LagoDetails as D


@strawberry.type(description="A Lago customer.")
class LagoCustomer(g.ProviderRecord):
    lago_id: str | None = g.detail(D, lambda d: d.lago_id, str | None, "Lago's own uuid.")
    external_id: str = g.own_id("The company's own id; every Lago path uses it.")
    legal_name: str | None = g.company()
    phone: str | None = g.phone()
    currency: str | None = g.currency()
    address: g.Address | None = g.address()
    provider_customer_id: str | None = g.detail(
        D,
        lambda d: d.provider_customer_id,
        str | None,
        "billing_configuration.provider_customer_id (a Stripe id).",
    )
    created_at: datetime | None = g.created()
