"""Which provider gets which fields, and in what order creates run.

Pure code. A provider receives only the fields its adapter declares in
``capabilities.writable_fields``; every other field the client sent is reported back as skipped
for that provider, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Final

from gateway.model import CustomerWrite, WritableField
from gateway.providers.registry import BY_NAME, SPECS
from gateway.providers.spec import WritePhase
from gateway.writes.fields import input_name

LINK_PROVIDER: Final = next(s.name for s in SPECS if s.links_others)
"""The provider whose new record id links the others (Lago, ChartMogul) to it."""
WRITE_ORDER: Final = tuple(s.name for s in sorted(SPECS, key=lambda s: s.write_rank))
"""The order outcomes are reported in (and creates start in, within each phase)."""
ROUTING_FIELDS: Final = frozenset({WritableField.DATA_SOURCE_UUID})
"""Fields that choose where a record is created rather than describe the customer: never
reported as skipped by providers that have no such notion."""


@dataclass(frozen=True, slots=True)
class ProviderPlan:
    provider: str
    write: CustomerWrite
    """Only the fields this provider stores (plus the gateway's own link, on creates)."""
    skipped: tuple[str, ...]
    """Input fields (GraphQL names) the client sent that this provider cannot store."""

    @property
    def has_changes(self) -> bool:
        return bool(self.write.given())


def plan_write(
    provider: str,
    write: CustomerWrite,
    writable: Collection[WritableField],
    *,
    creating: bool,
    link_stripe_id: str | None = None,
) -> ProviderPlan:
    """Split ``write`` into what ``provider`` stores and what it must skip.

    ``link_stripe_id`` (creates) is the Stripe id the gateway links the record to; it is added
    where the provider stores a Stripe id and is not a client field, so never reported skipped.
    """
    storable = set(writable)
    if not creating and provider in BY_NAME:
        storable -= BY_NAME[provider].create_only
    given = write.given()
    kept = {name: value for name, value in given.items() if name in storable}
    skipped = tuple(
        sorted(
            input_name(name)
            for name in given
            if name not in storable and name not in ROUTING_FIELDS
        )
    )
    planned = CustomerWrite(**kept)
    if link_stripe_id is not None and WritableField.STRIPE_ID in storable:
        planned = replace(planned, stripe_id=link_stripe_id)
    return ProviderPlan(provider=provider, write=planned, skipped=skipped)


@dataclass(frozen=True, slots=True)
class CreateOrder:
    first: tuple[str, ...]
    """Written concurrently, before the rest."""
    then: tuple[str, ...]
    """Written concurrently once ``first`` is done, linked to the Stripe record."""


def create_order(targets: Collection[str]) -> CreateOrder:
    ordered = sorted(targets, key=report_order)
    return CreateOrder(
        first=tuple(p for p in ordered if _phase(p) is WritePhase.INDEPENDENT),
        then=tuple(p for p in ordered if _phase(p) is not WritePhase.INDEPENDENT),
    )


def _phase(provider: str) -> WritePhase:
    spec = BY_NAME.get(provider)
    return spec.write_phase if spec is not None else WritePhase.LINKED


def report_order(provider: str) -> tuple[int, str]:
    """Sort key putting outcomes in :data:`WRITE_ORDER`."""
    position = WRITE_ORDER.index(provider) if provider in WRITE_ORDER else len(WRITE_ORDER)
    return (position, provider)
