"""The one contract every provider adapter keeps.

The gateway never special-cases a provider by name: it asks an adapter what it can do
(:class:`Capabilities`) and talks to it through :class:`ProviderAdapter`. Everything an adapter
returns is a :class:`~gateway.model.CustomerRecord`, which keeps the provider's raw object for
provenance.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from gateway.model import (
    ChangeEvent,
    CustomerRecord,
    CustomerWrite,
    EventPage,
    Lookup,
    Page,
    WritableField,
)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What an adapter can do; the gateway plans its calls from this, never from names."""

    lookups: frozenset[Lookup]
    batch_sizes: Mapping[Lookup, int] = field(default_factory=dict)
    """Largest number of values one upstream call can resolve per lookup kind (1 = no batching)."""
    unique_lookups: frozenset[Lookup] = frozenset({Lookup.ID})
    """Lookups whose value names at most one record in this provider (e.g. FirstOfficer emails,
    Lago external ids). A record found any other way primes these loaders, saving a call."""
    list_page: bool = False
    max_page_size: int = 100
    create: bool = False
    update: bool = False
    delete: bool = False
    writable_fields: frozenset[WritableField] = frozenset()
    """Names of :class:`CustomerWrite` fields the provider can store."""
    change_feed: bool = False
    """The adapter implements :class:`ChangeFeed` (the provider lists customer events)."""
    created_window: bool = False
    """The adapter implements :class:`CreatedWindow` (its customer list filters by creation
    time), so many records known to lie in one creation window can be read in one call."""

    def batch_size(self, lookup: Lookup) -> int:
        return self.batch_sizes.get(lookup, 1)


@runtime_checkable
class ProviderAdapter(Protocol):
    """The async client the gateway uses for one provider.

    Methods a provider lacks (see :attr:`capabilities`) raise ``NotImplementedError``; the
    gateway checks capabilities first, so that is a programming error, not a user-facing one.
    """

    name: str
    capabilities: Capabilities

    async def lookup(self, by: Lookup, values: Sequence[str]) -> list[list[CustomerRecord]]:
        """Resolve many values at once: one list of matching records per value, in order.

        A value with no match gives an empty list. A failure of the whole call raises
        :class:`ProviderError`.
        """
        ...

    async def list_page(self, cursor: str | None, limit: int) -> Page: ...

    async def create(
        self, write: CustomerWrite, *, idempotency_key: str | None = None
    ) -> CustomerRecord: ...

    async def update(
        self, record_id: str, write: CustomerWrite, *, idempotency_key: str | None = None
    ) -> CustomerRecord: ...

    async def delete(self, record_id: str, *, idempotency_key: str | None = None) -> None: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class ChangeFeed(Protocol):
    """A provider's list of customer changes (Stripe's and Tofupay's ``/v1/events``), read by
    the identity sync; adapters with ``capabilities.change_feed`` implement it."""

    async def events(self, cursor: str | None, limit: int) -> EventPage:
        """Customer events after ``cursor`` (from the oldest still listed when ``None``),
        oldest first, at most ``limit``."""
        ...


@runtime_checkable
class CreatedWindow(Protocol):
    """A provider's customer list filtered by creation time; adapters with
    ``capabilities.created_window`` implement it.

    A record's creation time never changes, so records whose creation times are known (the
    identity index keeps them) can be read in one listing of the window they lie in instead of
    one call each."""

    async def created_between(
        self, start: datetime, end: datetime, limit: int
    ) -> tuple[list[CustomerRecord], bool]:
        """Live customers created from ``start`` to ``end`` (both included), at most ``limit``
        in one call; and whether that is all of them (``False``: more were left unlisted)."""
        ...


ChangeSink = Callable[[Sequence[ChangeEvent]], Awaitable[None]]
"""Where verified webhook events go (the identity sync applies them to the index)."""
