"""Stripe's record type in the GraphQL API (``Customer.stripe``)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.model import Metric
from gateway.providers import graphql as g
from gateway.providers.stripe_like.adapter import StripeLikeDetails as D


@strawberry.type(description="A Stripe customer.")
class StripeCustomer(g.ProviderRecord):
    phone: str | None = g.phone()
    description: str | None = g.detail(D, lambda d: d.description, str | None)
    address: g.Address | None = g.address()
    currency: str | None = g.currency()
    balance: g.Money | None = g.money(Metric.BALANCE, "Balance in minor units; negative is credit.")
    delinquent: bool | None = g.detail(D, lambda d: d.delinquent, bool | None)
    created: datetime | None = g.created()
    metadata: g.JSON = g.detail(D, lambda d: g.JSON(dict(d.metadata)), g.JSON, default={})
    livemode: bool | None = g.detail(D, lambda d: d.livemode, bool | None)
