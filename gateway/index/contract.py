"""What the identity index keeps and answers: the one interface both backends implement.

The index stores which provider records are one customer (clusters computed by the pure
resolver, re-run over the affected component when records change), under ids that last for the
customer's life. Reads ask it *who* a customer is, then fetch the member records fresh by id.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from gateway.identity.keys import MatchKey
from gateway.identity.overrides import Override
from gateway.identity.resolver import MatchEdge
from gateway.identity.survivorship import Conflict
from gateway.model import CustomerRecord, RecordRef

__all__ = [
    "Applied",
    "ChangeSource",
    "CustomerFilter",
    "CustomerOrder",
    "IdentityIndex",
    "IndexPage",
    "IndexStats",
    "IndexedCustomer",
    "InvalidIndexCursor",
    "OrderField",
    "PageQuery",
    "RecordChange",
    "SyncCursor",
]


class InvalidIndexCursor(ValueError):
    """A page cursor the index did not issue (or issued for another filter or order)."""


class ChangeSource(enum.StrEnum):
    """How the index learnt of a record (kept per record for provenance and metrics)."""

    BACKFILL = "backfill"
    RELIST = "relist"
    EVENT = "event"
    WEBHOOK = "webhook"
    WRITE = "write"
    """The gateway's own mutation (write-through)."""
    READ = "read"
    """A live fetch (read-repair, or a lookup before the provider was synced)."""


@dataclass(frozen=True, slots=True)
class RecordChange:
    """A record as seen at ``observed_at``; ``record.deleted`` marks a deletion.

    Per record, a change older than the one the index holds is ignored, so replays and
    out-of-order deliveries converge to the same graph.
    """

    record: CustomerRecord
    observed_at: datetime
    source: ChangeSource


@dataclass(frozen=True, slots=True)
class IndexedCustomer:
    """One customer as the index knows it: who its records are and why."""

    id: str
    """The stable public id (minted once; merged-away ids resolve here as aliases)."""
    members: tuple[RecordRef, ...]
    """Live member records, sorted."""
    edges: tuple[MatchEdge, ...]
    conflicts: tuple[Conflict, ...]
    """Guardrail conflicts found when the cluster was computed."""
    created_at: datetime | None
    """The earliest ``created_at`` among its records."""
    synced_at: datetime
    """When the index last recomputed or confirmed this cluster: how old its identity view is."""
    aliases: tuple[str, ...] = ()
    """Ids of customers merged into this one."""
    snapshots: Mapping[RecordRef, CustomerRecord] = field(
        default_factory=dict, compare=False, repr=False
    )
    """What the index last saw of each member record, when it read them along with the
    customer (read-repair compares against them without asking :meth:`IdentityIndex.records`
    again); empty when it did not."""


@dataclass(frozen=True, slots=True)
class Applied:
    """What :meth:`IdentityIndex.apply` changed."""

    changed: tuple[str, ...] = ()
    """Ids of customers whose membership changed (new, merged into, split from, emptied)."""
    aliased: Mapping[str, str] = field(default_factory=dict)
    """Merged-away id -> surviving id."""
    ignored: int = 0
    """Changes older than what the index already held."""


class OrderField(enum.StrEnum):
    CREATED = "created"
    NAME = "name"
    MRR = "mrr"


@dataclass(frozen=True, slots=True)
class CustomerOrder:
    field: OrderField = OrderField.CREATED
    descending: bool = True


@dataclass(frozen=True, slots=True)
class CustomerFilter:
    """All given criteria must hold (``None`` = no criterion)."""

    email: str | None = None
    """Matching form (normalised); any member record's email."""
    text: str | None = None
    """Case-insensitive substring of the customer's name or company."""
    providers: frozenset[str] | None = None
    """Customers with a record in every one of these providers."""
    without_providers: frozenset[str] | None = None
    """Customers with no record in any of these providers."""
    country: str | None = None
    """ISO 3166-1 alpha-2, upper case."""
    status: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    mrr_min: int | None = None
    """Minor units."""
    mrr_max: int | None = None


@dataclass(frozen=True, slots=True)
class PageQuery:
    first: int
    after: str | None = None
    """An opaque cursor from a previous :class:`IndexPage` of the same filter and order."""
    filter: CustomerFilter = field(default_factory=CustomerFilter)
    order: CustomerOrder = field(default_factory=CustomerOrder)


@dataclass(frozen=True, slots=True)
class IndexPage:
    customers: Sequence[IndexedCustomer]
    end_cursor: str | None
    has_next_page: bool
    cursors: Sequence[str] = ()
    """One cursor per customer (resume right after it), for Relay edges."""


@dataclass(frozen=True, slots=True)
class SyncCursor:
    """Where a provider's sync stream stands (``stream``: ``backfill``, ``events``, ``relist``)."""

    provider: str
    stream: str
    position: str | None
    complete: bool
    """For ``backfill``: the provider has been listed to the end at least once."""
    records: int
    """Records seen by this stream so far."""
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class IndexStats:
    records: int
    customers: int
    records_per_provider: Mapping[str, int]


class IdentityIndex(Protocol):
    """The identity graph's store; SQLite (embedded) and PostgreSQL implement it alike."""

    async def apply(self, changes: Sequence[RecordChange]) -> Applied:
        """Store records (or deletions) and recompute the components they touch, atomically."""
        ...

    async def customer(self, customer_id: str) -> IndexedCustomer | None:
        """By id or by alias of a merged-away id."""
        ...

    async def customers(self, ids: Sequence[str]) -> Mapping[str, IndexedCustomer]:
        """:meth:`customer` for many ids in one read: each id the index knows (a merged-away
        id by its alias) -> the live customer it names; unknown ids are absent."""
        ...

    async def customer_of(self, ref: RecordRef) -> IndexedCustomer | None: ...

    async def customers_by_email(self, email: str) -> Sequence[IndexedCustomer]:
        """Customers with a live record whose matching-form email is ``email``."""
        ...

    async def customers_by_key(self, key: MatchKey) -> Sequence[IndexedCustomer]:
        """Customers with a live record holding this link key."""
        ...

    async def records(self, refs: Sequence[RecordRef]) -> Mapping[RecordRef, CustomerRecord]:
        """The stored snapshots (what the index last saw of each record)."""
        ...

    async def page(self, query: PageQuery) -> IndexPage:
        """Raises :class:`InvalidIndexCursor` for a cursor it cannot resume from."""
        ...

    async def add_override(self, override: Override) -> Applied:
        """Store an operator's decision and recompute the records it names."""
        ...

    async def overrides(self, refs: Sequence[RecordRef] | None = None) -> Sequence[Override]:
        """The audit trail: every override naming any of ``refs`` (all when ``None``), oldest
        first."""
        ...

    async def cursor(self, provider: str, stream: str) -> SyncCursor | None: ...

    async def save_cursor(self, cursor: SyncCursor) -> None: ...

    async def stats(self) -> IndexStats: ...

    async def aclose(self) -> None: ...
