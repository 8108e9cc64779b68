"""Test doubles for the sync: a record-keeping :class:`IdentityIndex` and a scripted feed.

:class:`RecordingIndex` is not a store: it keeps each record's newest change (older ones are
ignored, as the real index does) and every cursor, and answers the reads the sync makes. It does
no clustering: each live record is its own "customer" (id ``provider:id``), which is all the
deletion sweep needs. Lookups the sync never makes raise ``NotImplementedError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from gateway.identity.keys import MatchKey
from gateway.identity.overrides import Override
from gateway.index.contract import (
    Applied,
    IndexedCustomer,
    IndexPage,
    IndexStats,
    PageQuery,
    RecordChange,
    SyncCursor,
)
from gateway.model import ChangeEvent, ChangeKind, CustomerRecord, EventPage, Page, RecordRef
from gateway.providers.contract import ProviderAdapter

T0 = datetime(2024, 1, 1, tzinfo=UTC)


class TickingClock:
    """A clock that moves one second per reading: every change gets a later time."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@dataclass
class RecordingIndex:
    applied: list[RecordChange] = field(default_factory=list)
    """Every change passed to :meth:`apply`, in order (ignored ones included)."""
    saved: list[SyncCursor] = field(default_factory=list)
    """Every cursor saved, in order."""
    latest: dict[RecordRef, RecordChange] = field(default_factory=dict)
    cursors: dict[tuple[str, str], SyncCursor] = field(default_factory=dict)
    closed: bool = False

    def live(self, provider: str | None = None) -> set[RecordRef]:
        return {
            ref
            for ref, change in self.latest.items()
            if not change.record.deleted and provider in (None, ref.provider)
        }

    async def apply(self, changes: Sequence[RecordChange]) -> Applied:
        ignored = 0
        for change in changes:
            self.applied.append(change)
            held = self.latest.get(change.record.ref)
            if held is not None and change.observed_at < held.observed_at:
                ignored += 1
            else:
                self.latest[change.record.ref] = change
        return Applied(ignored=ignored)

    async def records(self, refs: Sequence[RecordRef]) -> Mapping[RecordRef, CustomerRecord]:
        return {ref: self.latest[ref].record for ref in refs if ref in self.latest}

    async def page(self, query: PageQuery) -> IndexPage:
        wanted = query.filter.providers
        refs = sorted(r for r in self.live() if wanted is None or r.provider in wanted)
        start = int(query.after or 0)
        chunk = refs[start : start + query.first]
        more = start + query.first < len(refs)
        customers = [
            IndexedCustomer(str(ref), (ref,), (), (), None, self.latest[ref].observed_at)
            for ref in chunk
        ]
        return IndexPage(customers, str(start + query.first) if more else None, more)

    async def cursor(self, provider: str, stream: str) -> SyncCursor | None:
        return self.cursors.get((provider, stream))

    async def save_cursor(self, cursor: SyncCursor) -> None:
        self.saved.append(cursor)
        self.cursors[cursor.provider, cursor.stream] = cursor

    async def stats(self) -> IndexStats:
        live = self.live()
        per: dict[str, int] = {}
        for ref in live:
            per[ref.provider] = per.get(ref.provider, 0) + 1
        return IndexStats(records=len(live), customers=len(live), records_per_provider=per)

    async def aclose(self) -> None:
        self.closed = True

    async def customer(self, customer_id: str) -> IndexedCustomer | None:
        raise NotImplementedError

    async def customers(self, ids: Sequence[str]) -> Mapping[str, IndexedCustomer]:
        raise NotImplementedError

    async def customer_of(self, ref: RecordRef) -> IndexedCustomer | None:
        raise NotImplementedError

    async def customers_by_email(self, email: str) -> Sequence[IndexedCustomer]:
        raise NotImplementedError

    async def customers_by_key(self, key: MatchKey) -> Sequence[IndexedCustomer]:
        raise NotImplementedError

    async def add_override(self, override: Override) -> Applied:
        raise NotImplementedError

    async def overrides(self, refs: Sequence[RecordRef] | None = None) -> Sequence[Override]:
        raise NotImplementedError


def record(provider: str, record_id: str, *, deleted: bool = False) -> CustomerRecord:
    return CustomerRecord(provider=provider, id=record_id, raw={"id": record_id}, deleted=deleted)


@dataclass
class ScriptedFeed:
    """A :class:`ChangeFeed` over a fixed list of events; the cursor is the next index."""

    events_list: list[ChangeEvent] = field(default_factory=list)
    calls: list[tuple[str | None, int]] = field(default_factory=list)

    async def events(self, cursor: str | None, limit: int) -> EventPage:
        self.calls.append((cursor, limit))
        start = int(cursor or 0)
        chunk = self.events_list[start : start + limit]
        end = start + len(chunk)
        return EventPage(chunk, str(end) if chunk else None, end < len(self.events_list))


class FeedAdapter:
    """A sandbox adapter given an events list (as Stripe's and Tofupay's adapters have): listing
    goes to the simulator, events come from ``feed``; ``calls`` keeps their order."""

    def __init__(self, inner: ProviderAdapter, feed: ScriptedFeed) -> None:
        self.inner = inner
        self.feed = feed
        self.name = inner.name
        self.capabilities = replace(inner.capabilities, change_feed=True)
        self.calls: list[str] = []

    async def list_page(self, cursor: str | None, limit: int) -> Page:
        self.calls.append("list")
        return await self.inner.list_page(cursor, limit)

    async def events(self, cursor: str | None, limit: int) -> EventPage:
        self.calls.append("events")
        return await self.feed.events(cursor, limit)


def event(
    record_: CustomerRecord, event_id: str, at: datetime, kind: ChangeKind = ChangeKind.UPDATED
) -> ChangeEvent:
    return ChangeEvent(record_.provider, event_id, kind, record_, at)
