"""FirstOfficer's record type in the GraphQL API (``Customer.firstOfficer``)."""

from __future__ import annotations

import strawberry

from gateway.model import Metric
from gateway.providers import graphql as g
from gateway.providers.firstofficer.adapter import FirstOfficerDetails as D


@strawberry.type(description="A FirstOfficer customer (metrics refreshed hourly by FirstOfficer).")
class FirstOfficerCustomer(g.ProviderRecord):
    stripe_id: str | None = g.detail(D, lambda d: d.stripe_id, str | None)
    extra_id: str | None = g.detail(D, lambda d: d.extra_id, str | None)
    currency: str | None = g.currency()
    current_mrr: g.Money | None = g.money(Metric.CURRENT_MRR)
    total_contract_value: g.Money | None = g.money(Metric.TOTAL_CONTRACT_VALUE)
    current_subscription_count: int | None = g.record_field(
        lambda r: _count(r.metrics.get(Metric.CURRENT_SUBSCRIPTION_COUNT)), int | None
    )
    status: str | None = g.status("'active' while the customer has subscriptions, else 'lost'.")


def _count(value: object) -> int | None:
    return value if isinstance(value, int) else None
