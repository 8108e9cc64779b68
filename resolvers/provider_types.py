"""One typed GraphQL record per provider: its own fields under GraphQL names, plus opt-in ``raw``.

Each type wraps a :class:`CustomerRecord`; fields read the normalised record where the adapter
already did the work (money, dates) and the raw provider object for provider-only fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from gateway.providers.base import CustomerRecord
from gateway.providers.base import Money as MoneyRecord
from resolvers.scalars import Address, Money, raw_get, raw_str, unix_time


def _money(record: CustomerRecord, name: str) -> Money | None:
    value = record.metrics.get(name)
    return Money.of(value) if isinstance(value, MoneyRecord) else None


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


@strawberry.type(description="A Stripe customer.")
class StripeCustomer(ProviderRecord):
    @strawberry.field
    def phone(self) -> str | None:
        return self.record.phone

    @strawberry.field
    def description(self) -> str | None:
        return raw_str(self.record.raw, "description")

    @strawberry.field
    def address(self) -> Address | None:
        return Address.of(self.record.address)

    @strawberry.field
    def currency(self) -> str | None:
        return self.record.currency

    @strawberry.field(description="Balance in minor units; negative is credit.")
    def balance(self) -> Money | None:
        return _money(self.record, "balance")

    @strawberry.field
    def delinquent(self) -> bool | None:
        value = raw_get(self.record.raw, "delinquent")
        return value if isinstance(value, bool) else None

    @strawberry.field
    def created(self) -> datetime | None:
        return self.record.created_at

    @strawberry.field
    def metadata(self) -> JSON:
        value = raw_get(self.record.raw, "metadata")
        return JSON(dict(value) if isinstance(value, dict) else {})

    @strawberry.field
    def livemode(self) -> bool | None:
        value = raw_get(self.record.raw, "livemode")
        return value if isinstance(value, bool) else None


@strawberry.type(description="A ChartMogul customer.")
class ChartMogulCustomer(ProviderRecord):
    @strawberry.field(description="ChartMogul's uuid (cus_<uuid>): not a Stripe id.")
    def uuid(self) -> str:
        return self.record.id

    @strawberry.field(description="ChartMogul's internal integer id.")
    def internal_id(self) -> int | None:
        value = raw_get(self.record.raw, "id")
        return value if isinstance(value, int) else None

    @strawberry.field
    def external_id(self) -> str | None:
        return raw_str(self.record.raw, "external_id")

    @strawberry.field
    def external_ids(self) -> list[str]:
        value = raw_get(self.record.raw, "external_ids")
        return [str(v) for v in value] if isinstance(value, list) else []

    @strawberry.field
    def data_source_uuid(self) -> str | None:
        return raw_str(self.record.raw, "data_source_uuid")

    @strawberry.field
    def company(self) -> str | None:
        return self.record.company

    @strawberry.field
    def status(self) -> str | None:
        return self.record.status

    @strawberry.field
    def customer_since(self) -> datetime | None:
        return self.record.created_at

    @strawberry.field
    def address(self) -> Address | None:
        return Address.of(self.record.address)

    @strawberry.field
    def mrr(self) -> Money | None:
        return _money(self.record, "mrr")

    @strawberry.field
    def arr(self) -> Money | None:
        return _money(self.record, "arr")

    @strawberry.field
    def billing_system_type(self) -> str | None:
        return raw_str(self.record.raw, "billing-system-type")

    @strawberry.field
    def chartmogul_url(self) -> str | None:
        return raw_str(self.record.raw, "chartmogul-url")


@strawberry.type(description="A FirstOfficer customer (metrics refreshed hourly by FirstOfficer).")
class FirstOfficerCustomer(ProviderRecord):
    @strawberry.field
    def stripe_id(self) -> str | None:
        return raw_str(self.record.raw, "stripe_id")

    @strawberry.field
    def extra_id(self) -> str | None:
        return raw_str(self.record.raw, "extra_id")

    @strawberry.field
    def currency(self) -> str | None:
        return self.record.currency

    @strawberry.field
    def current_mrr(self) -> Money | None:
        return _money(self.record, "currentMrr")

    @strawberry.field
    def total_contract_value(self) -> Money | None:
        return _money(self.record, "totalContractValue")

    @strawberry.field
    def current_subscription_count(self) -> int | None:
        value = self.record.metrics.get("currentSubscriptionCount")
        return value if isinstance(value, int) else None

    @strawberry.field(description="'active' while the customer has subscriptions, else 'lost'.")
    def status(self) -> str | None:
        return self.record.status


@strawberry.type(description="A Lago customer.")
class LagoCustomer(ProviderRecord):
    @strawberry.field(description="Lago's own uuid.")
    def lago_id(self) -> str | None:
        return raw_str(self.record.raw, "lago_id")

    @strawberry.field(description="The company's own id; every Lago path uses it.")
    def external_id(self) -> str:
        return self.record.id

    @strawberry.field
    def legal_name(self) -> str | None:
        return raw_str(self.record.raw, "legal_name")

    @strawberry.field
    def phone(self) -> str | None:
        return self.record.phone

    @strawberry.field
    def currency(self) -> str | None:
        return self.record.currency

    @strawberry.field
    def address(self) -> Address | None:
        return Address.of(self.record.address)

    @strawberry.field(description="billing_configuration.provider_customer_id (a Stripe id).")
    def provider_customer_id(self) -> str | None:
        return raw_str(self.record.raw, "billing_configuration", "provider_customer_id")

    @strawberry.field
    def created_at(self) -> datetime | None:
        return self.record.created_at


@strawberry.type(description="A Tofupay customer.")
class TofupayCustomer(ProviderRecord):
    @strawberry.field
    def description(self) -> str | None:
        return raw_str(self.record.raw, "description")

    @strawberry.field
    def currency(self) -> str | None:
        return self.record.currency

    @strawberry.field
    def account_balance(self) -> Money | None:
        return _money(self.record, "balance")

    @strawberry.field
    def delinquent(self) -> bool | None:
        value = raw_get(self.record.raw, "delinquent")
        return value if isinstance(value, bool) else None

    @strawberry.field
    def created(self) -> datetime | None:
        return self.record.created_at or unix_time(raw_get(self.record.raw, "created"))


PROVIDER_TYPES: dict[str, type[Any]] = {
    "stripe": StripeCustomer,
    "chartmogul": ChartMogulCustomer,
    "firstofficer": FirstOfficerCustomer,
    "lago": LagoCustomer,
    "tofupay": TofupayCustomer,
}
