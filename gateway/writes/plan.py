"""Which provider gets which fields, and in what order creates run.

Pure code. A provider receives only the fields its adapter declares in
``capabilities.writable_fields``; every other field the client sent is reported back as skipped
for that provider, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Final

from gateway.model import CustomerWrite
from gateway.writes.fields import input_name

LINK_PROVIDER: Final = "stripe"
"""The provider whose new record id links the others (Lago, ChartMogul) to it."""
INDEPENDENT: Final = frozenset({"stripe", "tofupay"})
"""Creates that need nothing from another provider: Stripe is the link source, Tofupay joins a
customer by email only. They run first, concurrently; the rest run after, with the Stripe id."""
WRITE_ORDER: Final = ("stripe", "tofupay", "lago", "chartmogul", "firstofficer")
"""The order outcomes are reported in (and creates start in, within each phase)."""
CREATE_ONLY: Final[Mapping[str, frozenset[str]]] = {
    # ChartMogul's adapter: "external_id, stripe_id and data_source_uuid are set at creation
    # only" (its update is a PATCH of the profile fields).
    "chartmogul": frozenset({"external_id", "stripe_id", "data_source_uuid"}),
}
ROUTING_FIELDS: Final = frozenset({"data_source_uuid"})
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
    writable: Collection[str],
    *,
    creating: bool,
    link_stripe_id: str | None = None,
) -> ProviderPlan:
    """Split ``write`` into what ``provider`` stores and what it must skip.

    ``link_stripe_id`` (creates) is the Stripe id the gateway links the record to; it is added
    where the provider stores a Stripe id and is not a client field, so never reported skipped.
    """
    storable = set(writable)
    if not creating:
        storable -= CREATE_ONLY.get(provider, frozenset())
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
    if link_stripe_id is not None and "stripe_id" in storable:
        planned = replace(planned, stripe_id=link_stripe_id)
    return ProviderPlan(provider=provider, write=planned, skipped=skipped)


@dataclass(frozen=True, slots=True)
class CreateOrder:
    first: tuple[str, ...]
    """Written concurrently, before the rest."""
    then: tuple[str, ...]
    """Written concurrently once ``first`` is done, linked to the Stripe record."""


def create_order(targets: Collection[str]) -> CreateOrder:
    ordered = [p for p in WRITE_ORDER if p in targets]
    ordered += sorted(p for p in targets if p not in WRITE_ORDER)
    return CreateOrder(
        first=tuple(p for p in ordered if p in INDEPENDENT),
        then=tuple(p for p in ordered if p not in INDEPENDENT),
    )


def report_order(provider: str) -> tuple[int, str]:
    """Sort key putting outcomes in :data:`WRITE_ORDER`."""
    position = WRITE_ORDER.index(provider) if provider in WRITE_ORDER else len(WRITE_ORDER)
    return (position, provider)
