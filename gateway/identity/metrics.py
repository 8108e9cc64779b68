"""A merged customer's revenue figures: each metric from the providers whose spec names it.

One definition for every reader: ``Customer.metrics`` and the identity index's MRR column
(what ``customers`` filters and orders by) must agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from gateway.model import CustomerRecord, Metric, Money
from gateway.providers.registry import SPECS

__all__ = ["metric_sources", "metric_values", "money_total"]


@cache
def metric_sources(metric: Metric) -> tuple[str, ...]:
    """The providers whose spec reports ``metric`` (the registry is fixed: asked once per
    metric, not once per customer and field)."""
    return tuple(spec.name for spec in SPECS if metric in spec.customer_metrics)


def metric_values(records: Iterable[CustomerRecord], metric: Metric) -> list[Money | int]:
    """The metric on every record of its source providers, in record order."""
    sources = metric_sources(metric)
    return [
        value
        for record in records
        if record.provider in sources and (value := record.metrics.get(metric)) is not None
    ]


def money_total(found: Iterable[Money | int]) -> Money | None:
    """The sum of the money values in the first currency met (other currencies are left out:
    adding them would need exchange rates the gateway does not have)."""
    values = [v for v in found if isinstance(v, Money)]
    if not values:
        return None
    currency = values[0].currency
    return Money(sum(v.amount for v in values if v.currency == currency), currency)
