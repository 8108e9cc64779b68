"""GraphQL building blocks for the provider record types each provider package declares.

A provider's ``graphql.py`` lists its record's fields over these shared pieces; the GraphQL
layer (``resolvers/``) imports those types by the path in the provider's spec and re-exports the
value types (``Money``, ``Address``, ``BigInt``). Nothing in the domain core imports this module.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, NewType, TypeVar

import strawberry
from strawberry.scalars import JSON
from strawberry.types.scalar import ScalarDefinition

from gateway.model import Address as AddressRecord
from gateway.model import CustomerRecord, Metric, RecordDetails
from gateway.model import Money as MoneyRecord

__all__ = [
    "JSON",
    "SCALAR_MAP",
    "Address",
    "BigInt",
    "Money",
    "ProviderRecord",
    "detail",
    "money",
    "record_field",
]

BigInt = NewType("BigInt", int)
"""GraphQL's Int is 32-bit; lifetime values in cents outgrow it."""

SCALAR_MAP: dict[object, ScalarDefinition] = {
    BigInt: strawberry.scalar(
        name="BigInt",
        serialize=int,
        parse_value=int,
        description="An integer that may exceed 32 bits (money in minor units).",
    )
}


@strawberry.type(description="An amount of money in integer minor units (cents).")
class Money:
    amount: BigInt
    currency: str = strawberry.field(description="Lower-case ISO 4217 code.")

    @classmethod
    def of(cls, money: MoneyRecord | None) -> Money | None:
        return None if money is None else cls(amount=BigInt(money.amount), currency=money.currency)


@strawberry.type
class Address:
    line1: str | None
    line2: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    country: str | None = strawberry.field(description="ISO 3166-1 alpha-2 where known.")

    @classmethod
    def of(cls, address: AddressRecord | None) -> Address | None:
        if address is None or address.is_empty():
            return None
        return cls(
            line1=address.line1,
            line2=address.line2,
            city=address.city,
            state=address.state,
            postal_code=address.postal_code,
            country=address.country,
        )


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


T = TypeVar("T")
D = TypeVar("D", bound=RecordDetails)


def record_field(
    read: Callable[[CustomerRecord], Any], graphql_type: Any, description: str | None = None
) -> Any:
    """A field answering ``read(record)`` (a unified field the adapter normalised)."""

    def resolve(root: ProviderRecord) -> Any:
        return read(root.record)

    return strawberry.field(resolver=resolve, graphql_type=graphql_type, description=description)


def detail(
    kind: type[D],
    read: Callable[[D], Any],
    graphql_type: Any,
    description: str | None = None,
    *,
    default: Any = None,
) -> Any:
    """A field answering ``read(details)`` from the provider's typed details (``default`` when
    the record carries none, e.g. a record built by hand)."""

    def resolve(root: ProviderRecord) -> Any:
        details = root.record.details
        return read(details) if isinstance(details, kind) else default

    return strawberry.field(resolver=resolve, graphql_type=graphql_type, description=description)


def money(metric: Metric, description: str | None = None) -> Any:
    """A ``Money`` field from the record's normalised metrics."""

    def resolve(root: ProviderRecord) -> Money | None:
        value = root.record.metrics.get(metric)
        return Money.of(value) if isinstance(value, MoneyRecord) else None

    return strawberry.field(resolver=resolve, description=description)


# Unified fields several record types show, as field declarations.
def phone() -> Any:
    return record_field(lambda r: r.phone, str | None)


def company() -> Any:
    return record_field(lambda r: r.company, str | None)


def currency() -> Any:
    return record_field(lambda r: r.currency, str | None)


def status(description: str | None = None) -> Any:
    return record_field(lambda r: r.status, str | None, description)


def address() -> Any:
    return record_field(lambda r: Address.of(r.address), Address | None)


def created(description: str | None = None) -> Any:
    return record_field(lambda r: r.created_at, datetime | None, description)


def own_id(description: str) -> Any:
    return record_field(lambda r: r.id, str, description)
