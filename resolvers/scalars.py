"""Shared GraphQL value types: money, addresses, provider names, opaque JSON."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NewType

import strawberry
from strawberry.scalars import JSON
from strawberry.types.scalar import ScalarDefinition

from gateway.model import Address as AddressRecord
from gateway.model import Money as MoneyRecord

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


@strawberry.enum(description="A provider the gateway reads from and writes to.")
class Provider(enum.Enum):
    STRIPE = "stripe"
    CHARTMOGUL = "chartmogul"
    FIRSTOFFICER = "firstofficer"
    LAGO = "lago"
    TOFUPAY = "tofupay"


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


def raw_get(raw: Mapping[str, Any], *path: str) -> Any:
    """Walk nested keys of a provider object; ``None`` where any step is missing."""
    node: Any = raw
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def raw_str(raw: Mapping[str, Any], *path: str) -> str | None:
    value = raw_get(raw, *path)
    return None if value is None or value == "" else str(value)


def unix_time(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    return None


__all__ = [
    "JSON",
    "SCALAR_MAP",
    "Address",
    "BigInt",
    "Money",
    "Provider",
    "raw_get",
    "raw_str",
    "unix_time",
]
