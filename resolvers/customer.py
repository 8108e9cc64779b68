"""The unified ``Customer``: merged fields with provenance, per-provider records, identity.

A ``Customer`` wraps one :class:`MergedCustomer` plus the provider failures met while
collecting it. A failed provider costs only its own fields: they resolve to ``null`` with an
error naming the provider, while every other field still answers.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import strawberry
from strawberry.types.info import Info as StrawberryInfo

from gateway.core.lookups import FoundCustomer, customer_by_id
from gateway.errors import ProviderError, ProviderFailed
from gateway.identity import FieldValue, MergedCustomer
from gateway.model import Address as AddressRecord
from gateway.model import CustomerRecord, Metric, RecordRef
from gateway.model import Money as MoneyRecord
from resolvers.provider_types import (
    ChartMogulCustomer,
    FirstOfficerCustomer,
    LagoCustomer,
    StripeCustomer,
    TofupayCustomer,
)
from resolvers.scalars import Address, BigInt, Money


@strawberry.type(description="A provider's record, by provider name and the provider's own id.")
class RecordReference:
    provider: str
    id: str

    @classmethod
    def of(cls, ref: RecordRef) -> RecordReference:
        return cls(provider=ref.provider, id=ref.id)


@strawberry.type(description="Which record a unified field's value came from.")
class FieldSource:
    field: str
    provider: str
    record_id: str


@strawberry.enum(description="Why two records were merged.")
class MatchRule(enum.Enum):
    EMAIL = "email"
    LINKED_ID = "linked_id"


@strawberry.type(description="One reason two records are the same customer.")
class MatchEdge:
    rule: MatchRule
    namespace: str | None = strawberry.field(
        description="For LINKED_ID: the link namespace (stripe_id, external_id)."
    )
    value: str = strawberry.field(description="The shared normalised email or id.")
    left: RecordReference
    right: RecordReference


@strawberry.type(description="A disagreement or a guardrail decision met while merging.")
class IdentityConflict:
    kind: str = strawberry.field(
        description="FIELD (records disagree) or GUARDRAIL (edge dropped)."
    )
    message: str
    field: str | None
    email: str | None
    provider: str | None
    records: list[RecordReference]
    values: list[str] = strawberry.field(description="The competing values, as text.")


@strawberry.type(description="Why these records are one customer.")
class Identity:
    anchor: RecordReference = strawberry.field(
        description="The record the customer id is derived from."
    )
    edges: list[MatchEdge]
    conflicts: list[IdentityConflict]
    truncated: bool = strawberry.field(
        description="True when an expansion bound (hops, records) stopped the search early."
    )


@strawberry.type(
    description="Revenue metrics; each comes from one provider and is null if it failed."
)
class CustomerMetrics:
    merged: strawberry.Private[MergedCustomer]
    errors: strawberry.Private[Mapping[str, ProviderError]]

    def _sum(self, provider: str, metric: Metric) -> Money | None:
        _raise_if_degraded(self.errors, provider)
        values = [
            value
            for record in _records(self.merged, provider)
            if isinstance(value := record.metrics.get(metric), MoneyRecord)
        ]
        if not values:
            return None
        currency = values[0].currency
        same = [v.amount for v in values if v.currency == currency]
        return Money(amount=BigInt(sum(same)), currency=currency)

    @strawberry.field(description="Monthly recurring revenue (ChartMogul).")
    def mrr(self) -> Money | None:
        return self._sum("chartmogul", Metric.MRR)

    @strawberry.field(description="Annual run rate (ChartMogul).")
    def arr(self) -> Money | None:
        return self._sum("chartmogul", Metric.ARR)

    @strawberry.field(description="MRR in the current month (FirstOfficer).")
    def current_mrr(self) -> Money | None:
        return self._sum("firstofficer", Metric.CURRENT_MRR)

    @strawberry.field(description="Realised lifetime value so far (FirstOfficer).")
    def total_contract_value(self) -> Money | None:
        return self._sum("firstofficer", Metric.TOTAL_CONTRACT_VALUE)

    @strawberry.field(description="Subscriptions contributing to MRR this month (FirstOfficer).")
    def current_subscription_count(self) -> int | None:
        _raise_if_degraded(self.errors, "firstofficer")
        counts = [
            value
            for record in _records(self.merged, "firstofficer")
            if isinstance(value := record.metrics.get(Metric.CURRENT_SUBSCRIPTION_COUNT), int)
        ]
        return sum(counts) if counts else None

    @strawberry.field(description="Account balance (Stripe); negative is credit.")
    def balance(self) -> Money | None:
        return self._sum("stripe", Metric.BALANCE)


def _records(merged: MergedCustomer, provider: str) -> list[CustomerRecord]:
    return [r for r in merged.records if r.provider == provider]


def _raise_if_degraded(errors: Mapping[str, ProviderError], provider: str) -> None:
    if (error := errors.get(provider)) is not None:
        raise ProviderFailed(error)


def _text(value: Any) -> str:
    if isinstance(value, AddressRecord):
        parts = (
            value.line1,
            value.line2,
            value.city,
            value.state,
            value.postal_code,
            value.country,
        )
        return ", ".join(p for p in parts if p)
    return "" if value is None else str(value)


@strawberry.federation.type(
    keys=["id"],
    description=(
        "One customer merged from every provider that knows it. Unified fields come from the "
        "highest-priority record with a value (see fieldSources); provider lists are null when "
        "that provider failed during the request."
    ),
)
class Customer:
    id: strawberry.ID = strawberry.field(
        description="Stable, opaque gateway id (encodes the anchor record; see identity.anchor)."
    )
    merged: strawberry.Private[MergedCustomer]
    errors: strawberry.Private[Mapping[str, ProviderError]]
    truncated: strawberry.Private[bool] = False

    @classmethod
    def maybe(cls, found: FoundCustomer | None) -> Customer | None:
        return None if found is None else cls.of(found)

    @classmethod
    def of(cls, found: FoundCustomer) -> Customer:
        return cls(
            id=strawberry.ID(found.id),
            merged=found.merged,
            errors=found.errors,
            truncated=found.truncated,
        )

    @classmethod
    async def resolve_reference(cls, info: StrawberryInfo, id: strawberry.ID) -> Customer | None:
        return cls.maybe(await customer_by_id(info.context, str(id)))

    def _field(self, name: str) -> FieldValue | None:
        return self.merged.fields.get(name)

    def _value(self, name: str) -> Any:
        found = self._field(name)
        return None if found is None else found.value

    @strawberry.field
    def name(self) -> str | None:
        value = self._value("name")
        return None if value is None else str(value)

    @strawberry.field(description="The primary email (see fieldSources for which record).")
    def email(self) -> str | None:
        value = self._value("email")
        return None if value is None else str(value)

    @strawberry.field(description="Every distinct email across the records, primary first.")
    def emails(self) -> list[str]:
        return list(self.merged.emails)

    @strawberry.field
    def phone(self) -> str | None:
        value = self._value("phone")
        return None if value is None else str(value)

    @strawberry.field
    def company(self) -> str | None:
        value = self._value("company")
        return None if value is None else str(value)

    @strawberry.field
    def address(self) -> Address | None:
        value = self._value("address")
        return Address.of(value) if isinstance(value, AddressRecord) else None

    @strawberry.field(description="Lower-case ISO 4217 code.")
    def currency(self) -> str | None:
        value = self._value("currency")
        return None if value is None else str(value)

    @strawberry.field(description="The earliest creation time across the records.")
    def created_at(self) -> datetime | None:
        return self.merged.created_at

    @strawberry.field(description="Status as the highest-priority provider reports it.")
    def status(self) -> str | None:
        value = self._value("status")
        return None if value is None else str(value)

    @strawberry.field
    def metrics(self) -> CustomerMetrics:
        return CustomerMetrics(merged=self.merged, errors=self.errors)

    def _provider(self, provider: str, kind: type[Any]) -> list[Any]:
        _raise_if_degraded(self.errors, provider)
        return [kind(record=r) for r in _records(self.merged, provider)]

    @strawberry.field(description="Stripe records (a customer may hold duplicates).")
    def stripe(self) -> list[StripeCustomer] | None:
        return self._provider("stripe", StripeCustomer)

    @strawberry.field
    def chartmogul(self) -> list[ChartMogulCustomer] | None:
        return self._provider("chartmogul", ChartMogulCustomer)

    @strawberry.field
    def first_officer(self) -> list[FirstOfficerCustomer] | None:
        return self._provider("firstofficer", FirstOfficerCustomer)

    @strawberry.field
    def lago(self) -> list[LagoCustomer] | None:
        return self._provider("lago", LagoCustomer)

    @strawberry.field
    def tofupay(self) -> list[TofupayCustomer] | None:
        return self._provider("tofupay", TofupayCustomer)

    @strawberry.field(description="Which record each unified field's value came from.")
    def field_sources(self) -> list[FieldSource]:
        return [
            FieldSource(field=name, provider=value.source.provider, record_id=value.source.id)
            for name, value in sorted(self.merged.fields.items())
        ]

    @strawberry.field(description="Every record of this customer, as (provider, id).")
    def external_ids(self) -> list[RecordReference]:
        return [RecordReference.of(r.ref) for r in self.merged.records]

    @strawberry.field
    def identity(self) -> Identity:
        return Identity(
            anchor=RecordReference.of(self.merged.anchor),
            edges=[
                MatchEdge(
                    rule=MatchRule(edge.rule.value.lower()),
                    namespace=edge.namespace,
                    value=edge.value,
                    left=RecordReference.of(edge.left),
                    right=RecordReference.of(edge.right),
                )
                for edge in self.merged.edges
            ],
            conflicts=[_conflict(c) for c in self.merged.conflicts],
            truncated=self.truncated,
        )

    @strawberry.field(description="Providers that failed while this customer was collected.")
    def degraded_providers(self) -> list[str]:
        return sorted(self.errors)


def _conflict(conflict: Any) -> IdentityConflict:
    values: Sequence[tuple[RecordRef, Any]] = conflict.values
    return IdentityConflict(
        kind=str(conflict.kind.value if hasattr(conflict.kind, "value") else conflict.kind),
        message=conflict.message,
        field=conflict.field,
        email=conflict.email,
        provider=conflict.provider,
        records=[RecordReference.of(r) for r in conflict.records]
        or [RecordReference.of(ref) for ref, _ in values],
        values=[_text(v) for _, v in values],
    )
