"""ChartMogul's record type in the GraphQL API (``Customer.chartmogul``)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.model import Metric
from gateway.providers import graphql as g
from gateway.providers.chartmogul.adapter import ChartMogulDetails as D


@strawberry.type(description="A ChartMogul customer.")
class ChartMogulCustomer(g.ProviderRecord):
    uuid: str = g.own_id("ChartMogul's uuid (cus_<uuid>): not a Stripe id.")
    internal_id: int | None = g.detail(
        D, lambda d: d.internal_id, int | None, "ChartMogul's internal integer id."
    )
    external_id: str | None = g.detail(D, lambda d: d.external_id, str | None)
    external_ids: list[str] = g.detail(D, lambda d: list(d.external_ids), list[str], default=[])
    data_source_uuid: str | None = g.detail(D, lambda d: d.data_source_uuid, str | None)
    company: str | None = g.company()
    status: str | None = g.status()
    customer_since: datetime | None = g.created()
    address: g.Address | None = g.address()
    mrr: g.Money | None = g.money(Metric.MRR)
    arr: g.Money | None = g.money(Metric.ARR)
    billing_system_type: str | None = g.detail(D, lambda d: d.billing_system_type, str | None)
    chartmogul_url: str | None = g.detail(D, lambda d: d.chartmogul_url, str | None)
