"""Tofupay's record type in the GraphQL API (``Customer.tofupay``)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.model import Metric
from gateway.providers import graphql as g
from gateway.providers.stripe_like.adapter import StripeLikeDetails as D


@strawberry.type(description="A Tofupay customer.")
class TofupayCustomer(g.ProviderRecord):
    description: str | None = g.detail(D, lambda d: d.description, str | None)
    currency: str | None = g.currency()
    account_balance: g.Money | None = g.money(Metric.BALANCE)
    delinquent: bool | None = g.detail(D, lambda d: d.delinquent, bool | None)
    created: datetime | None = g.created()
