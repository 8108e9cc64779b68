"""``Customer.metrics``: revenue figures, each taken from the providers whose spec names it."""

from __future__ import annotations

from collections.abc import Mapping

import strawberry

from gateway.errors import ProviderError, ProviderFailed
from gateway.identity import MergedCustomer
from gateway.identity.metrics import metric_sources, metric_values, money_total
from gateway.model import Metric
from gateway.model import Money as MoneyRecord
from resolvers.scalars import Money


@strawberry.type(
    description="Revenue metrics; each comes from one provider and is null if it failed."
)
class CustomerMetrics:
    merged: strawberry.Private[MergedCustomer]
    errors: strawberry.Private[Mapping[str, ProviderError]]

    def _values(self, metric: Metric) -> list[MoneyRecord | int]:
        """The metric on every record of its source providers; a failed source fails it."""
        for provider in metric_sources(metric):
            if (error := self.errors.get(provider)) is not None:
                raise ProviderFailed(error)
        return metric_values(self.merged.records, metric)

    def _sum(self, metric: Metric) -> Money | None:
        return Money.of(money_total(self._values(metric)))

    @strawberry.field(description="Monthly recurring revenue (ChartMogul).")
    def mrr(self) -> Money | None:
        return self._sum(Metric.MRR)

    @strawberry.field(description="Annual run rate (ChartMogul).")
    def arr(self) -> Money | None:
        return self._sum(Metric.ARR)

    @strawberry.field(description="MRR in the current month (FirstOfficer).")
    def current_mrr(self) -> Money | None:
        return self._sum(Metric.CURRENT_MRR)

    @strawberry.field(description="Realised lifetime value so far (FirstOfficer).")
    def total_contract_value(self) -> Money | None:
        return self._sum(Metric.TOTAL_CONTRACT_VALUE)

    @strawberry.field(description="Subscriptions contributing to MRR this month (FirstOfficer).")
    def current_subscription_count(self) -> int | None:
        counts = [
            v
            for v in self._values(Metric.CURRENT_SUBSCRIPTION_COUNT)
            if isinstance(v, int) and not isinstance(v, MoneyRecord)
        ]
        return sum(counts) if counts else None

    @strawberry.field(description="Account balance (Stripe); negative is credit.")
    def balance(self) -> Money | None:
        return self._sum(Metric.BALANCE)
