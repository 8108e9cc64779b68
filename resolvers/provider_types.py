"""One typed GraphQL record per provider: its own fields under GraphQL names, plus opt-in ``raw``.

Each type wraps a :class:`CustomerRecord`. Fields read the normalised record where the adapter
already did the work (money, dates, addresses) and the raw provider object for provider-only
fields; the resolvers below are shared, so each type is a list of declarations.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from gateway.model import CustomerRecord, Metric
from gateway.model import Money as MoneyRecord
from resolvers.scalars import Address, Money, raw_get, raw_str, unix_time


@strawberry.interface(description="Fields every provider record has.")
class ProviderRecord:
    record: strawberry.Private[CustomerRecord]

    @strawberry.field(description="The provider's own id for this record.")
    def id(self) -> str:
        return self.record.id

    @strawberry.field
    def email(self) -> str | None:
        return self.record.email

    @strawberry.field
    def name(self) -> str | None:
        return self.record.name

    @strawberry.field(description="The provider's object exactly as received (opt-in: large).")
    def raw(self) -> JSON:
        return JSON(dict(self.record.raw))


# Resolvers shared by several types: the normalised record's fields.


def _phone(root: ProviderRecord) -> str | None:
    return root.record.phone


def _company(root: ProviderRecord) -> str | None:
    return root.record.company


def _currency(root: ProviderRecord) -> str | None:
    return root.record.currency


def _status(root: ProviderRecord) -> str | None:
    return root.record.status


def _address(root: ProviderRecord) -> Address | None:
    return Address.of(root.record.address)


def _created(root: ProviderRecord) -> datetime | None:
    return root.record.created_at or unix_time(raw_get(root.record.raw, "created"))


def _own_id(root: ProviderRecord) -> str:
    return root.record.id


# Field factories for values read from the raw provider object or the record's metrics.


def raw_text(*path: str, description: str | None = None) -> Any:
    """A ``String`` field: the raw object's value at ``path``, ``null`` when absent or blank."""

    def resolve(root: ProviderRecord) -> str | None:
        return raw_str(root.record.raw, *path)

    return strawberry.field(resolver=resolve, description=description)


def raw_flag(key: str) -> Any:
    """A ``Boolean`` field: the raw object's ``key`` when it is a boolean."""

    def resolve(root: ProviderRecord) -> bool | None:
        value = raw_get(root.record.raw, key)
        return value if isinstance(value, bool) else None

    return strawberry.field(resolver=resolve)


def money(metric: Metric, description: str | None = None) -> Any:
    """A ``Money`` field from the record's normalised metrics."""

    def resolve(root: ProviderRecord) -> Money | None:
        value = root.record.metrics.get(metric)
        return Money.of(value) if isinstance(value, MoneyRecord) else None

    return strawberry.field(resolver=resolve, description=description)


def _metadata(root: ProviderRecord) -> JSON:
    value = raw_get(root.record.raw, "metadata")
    return JSON(dict(value) if isinstance(value, dict) else {})


def _internal_id(root: ProviderRecord) -> int | None:
    value = raw_get(root.record.raw, "id")
    return value if isinstance(value, int) else None


def _external_ids(root: ProviderRecord) -> list[str]:
    value = raw_get(root.record.raw, "external_ids")
    return [str(v) for v in value] if isinstance(value, list) else []


def _subscription_count(root: ProviderRecord) -> int | None:
    value = root.record.metrics.get(Metric.CURRENT_SUBSCRIPTION_COUNT)
    return value if isinstance(value, int) else None


@strawberry.type(description="A Stripe customer.")
class StripeCustomer(ProviderRecord):
    phone: str | None = strawberry.field(resolver=_phone)
    description: str | None = raw_text("description")
    address: Address | None = strawberry.field(resolver=_address)
    currency: str | None = strawberry.field(resolver=_currency)
    balance: Money | None = money(Metric.BALANCE, "Balance in minor units; negative is credit.")
    delinquent: bool | None = raw_flag("delinquent")
    created: datetime | None = strawberry.field(resolver=_created)
    metadata: JSON = strawberry.field(resolver=_metadata)
    livemode: bool | None = raw_flag("livemode")


@strawberry.type(description="A ChartMogul customer.")
class ChartMogulCustomer(ProviderRecord):
    uuid: str = strawberry.field(
        resolver=_own_id, description="ChartMogul's uuid (cus_<uuid>): not a Stripe id."
    )
    internal_id: int | None = strawberry.field(
        resolver=_internal_id, description="ChartMogul's internal integer id."
    )
    external_id: str | None = raw_text("external_id")
    external_ids: list[str] = strawberry.field(resolver=_external_ids)
    data_source_uuid: str | None = raw_text("data_source_uuid")
    company: str | None = strawberry.field(resolver=_company)
    status: str | None = strawberry.field(resolver=_status)
    customer_since: datetime | None = strawberry.field(resolver=_created)
    address: Address | None = strawberry.field(resolver=_address)
    mrr: Money | None = money(Metric.MRR)
    arr: Money | None = money(Metric.ARR)
    billing_system_type: str | None = raw_text("billing-system-type")
    chartmogul_url: str | None = raw_text("chartmogul-url")


@strawberry.type(description="A FirstOfficer customer (metrics refreshed hourly by FirstOfficer).")
class FirstOfficerCustomer(ProviderRecord):
    stripe_id: str | None = raw_text("stripe_id")
    extra_id: str | None = raw_text("extra_id")
    currency: str | None = strawberry.field(resolver=_currency)
    current_mrr: Money | None = money(Metric.CURRENT_MRR)
    total_contract_value: Money | None = money(Metric.TOTAL_CONTRACT_VALUE)
    current_subscription_count: int | None = strawberry.field(resolver=_subscription_count)
    status: str | None = strawberry.field(
        resolver=_status, description="'active' while the customer has subscriptions, else 'lost'."
    )


@strawberry.type(description="A Lago customer.")
class LagoCustomer(ProviderRecord):
    lago_id: str | None = raw_text("lago_id", description="Lago's own uuid.")
    external_id: str = strawberry.field(
        resolver=_own_id, description="The company's own id; every Lago path uses it."
    )
    legal_name: str | None = raw_text("legal_name")
    phone: str | None = strawberry.field(resolver=_phone)
    currency: str | None = strawberry.field(resolver=_currency)
    address: Address | None = strawberry.field(resolver=_address)
    provider_customer_id: str | None = raw_text(
        "billing_configuration",
        "provider_customer_id",
        description="billing_configuration.provider_customer_id (a Stripe id).",
    )
    created_at: datetime | None = strawberry.field(resolver=_created)


@strawberry.type(description="A Tofupay customer.")
class TofupayCustomer(ProviderRecord):
    description: str | None = raw_text("description")
    currency: str | None = strawberry.field(resolver=_currency)
    account_balance: Money | None = money(Metric.BALANCE)
    delinquent: bool | None = raw_flag("delinquent")
    created: datetime | None = strawberry.field(resolver=_created)


PROVIDER_TYPES: dict[str, type[Any]] = {
    "stripe": StripeCustomer,
    "chartmogul": ChartMogulCustomer,
    "firstofficer": FirstOfficerCustomer,
    "lago": LagoCustomer,
    "tofupay": TofupayCustomer,
}
