"""The unified ``Customer``: merged fields with provenance, per-provider records, identity.

A ``Customer`` wraps one :class:`MergedCustomer` plus the provider failures met while
collecting it. A failed provider costs only its own fields: they resolve to ``null`` with an
error naming the provider, while every other field still answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import strawberry
from strawberry.types.info import Info as StrawberryInfo

from gateway.core.by_id import customer_by_id
from gateway.core.found import FoundCustomer
from gateway.errors import ProviderError
from gateway.identity import FieldValue, MergedCustomer
from gateway.model import Address as AddressRecord
from resolvers.identity import Identity, RecordReference, identity_of
from resolvers.metrics import CustomerMetrics
from resolvers.provider_records import add_provider_fields
from resolvers.scalars import Address


@strawberry.type(description="Which record a unified field's value came from.")
class FieldSource:
    field: str
    provider: str
    record_id: str


@strawberry.federation.type(
    keys=["id"],
    description=(
        "One customer merged from every provider that knows it. Unified fields come from the "
        "highest-priority record with a value (see fieldSources); provider lists are null when "
        "that provider failed during the request."
    ),
)
@add_provider_fields(before="field_sources")
class Customer:
    id: strawberry.ID = strawberry.field(
        description="Stable, opaque gateway id (encodes the anchor record; see identity.anchor)."
    )
    merged: strawberry.Private[MergedCustomer]
    errors: strawberry.Private[Mapping[str, ProviderError]]
    truncated: strawberry.Private[bool] = False
    found: strawberry.Private[FoundCustomer | None] = None

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
            found=found,
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
        found = self.found
        return identity_of(
            self.merged,
            truncated=self.truncated,
            synced_at=found.synced_at if found is not None else None,
            aliases=found.aliases if found is not None else (),
        )

    @strawberry.field(description="Providers that failed while this customer was collected.")
    def degraded_providers(self) -> list[str]:
        return sorted(self.errors)
