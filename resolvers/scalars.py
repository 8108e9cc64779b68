"""Shared GraphQL value types: money, addresses, opaque JSON, and the ``Provider`` enum.

The value types are declared beside the provider record types that use them
(:mod:`gateway.providers.graphql`); ``Provider`` has one member per registered provider.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import strawberry
from strawberry.scalars import JSON

from gateway.providers.graphql import SCALAR_MAP, Address, BigInt, Money
from gateway.providers.registry import SPECS

if TYPE_CHECKING:

    class Provider(enum.Enum):
        """What type checkers see: the members are made from the registry at import time."""

        value: str

else:
    Provider = strawberry.enum(
        enum.Enum("Provider", {spec.enum_name: spec.name for spec in SPECS}),
        description="A provider the gateway reads from and writes to.",
    )

__all__ = ["JSON", "SCALAR_MAP", "Address", "BigInt", "Money", "Provider"]
