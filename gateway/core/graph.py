"""The request's view of the identity graph: the app's index, and whether it can answer alone.

The index says *who* a customer is. Until every configured provider has been backfilled, reads
still expand live (today's search-and-hop) and feed what they find into the index, so the
answer carries the customer's stable id either way; once all are synced, reads go straight to
the index and fetch the member records by id in one wave.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Final, TypeVar

from gateway.config import IdentitySettings
from gateway.identity import email_key, record_keys
from gateway.index import INDEX_ERRORS, Applied, ChangeSource, IdentityIndex, RecordChange
from gateway.model import CustomerRecord, RecordRef

__all__ = ["BACKFILL_STREAM", "IdentityGraph", "identity_view"]

logger = logging.getLogger("customer_gateway.identity")
_T = TypeVar("_T")

BACKFILL_STREAM: Final = "backfill"
_SYNCED_TTL: Final = 5.0
"""Seconds a "which providers are synced" answer is reused: one index query per interval,
not per request; a replica sees another's finished backfill within this."""


def identity_view(record: CustomerRecord, identity: IdentitySettings) -> tuple[object, ...]:
    """What of a record decides who it is: a change here must reach the index."""
    return (record.deleted, email_key(record, identity), record_keys(record, identity))


class IdentityGraph:
    """The app's identity index plus the little state reads need (one per app)."""

    def __init__(self, index: IdentityIndex, identity: IdentitySettings) -> None:
        self.index = index
        self.identity = identity
        self._synced: frozenset[str] = frozenset()
        self._synced_checked = float("-inf")

    async def guarded(self, attempt: Awaitable[_T], fallback: _T) -> _T:
        """``attempt``, or ``fallback`` when the index fails (its database down, its file
        locked): reads then answer live, as before the index existed, rather than not at all."""
        try:
            return await attempt
        except INDEX_ERRORS as exc:
            logger.warning("identity index unavailable, answering live: %s", type(exc).__name__)
            return fallback

    async def synced(self, providers: Collection[str]) -> bool:
        """Whether every one of ``providers`` has been listed to the end at least once (an
        index that cannot say counts as not synced)."""
        if set(providers) <= self._synced:
            return True
        now = time.monotonic()
        if now - self._synced_checked >= _SYNCED_TTL:
            self._synced_checked = now
            self._synced = await self.guarded(self._backfilled(providers), self._synced)
        return set(providers) <= self._synced

    async def _backfilled(self, providers: Collection[str]) -> frozenset[str]:
        done = set()
        for provider in providers:
            cursor = await self.index.cursor(provider, BACKFILL_STREAM)
            if cursor is not None and cursor.complete:
                done.add(provider)
        return frozenset(done)

    async def pending(self, providers: Collection[str]) -> list[str]:
        """Those of ``providers`` not synced yet, sorted."""
        await self.synced(providers)
        return sorted(set(providers) - self._synced)

    def mark_synced(self, provider: str) -> None:
        """The sync runner finished a backfill here: no need to wait for the next check."""
        self._synced |= {provider}

    async def feed(self, records: Iterable[CustomerRecord], source: ChangeSource) -> Applied:
        """Tell the index what a read or write just saw (deletions included)."""
        now = datetime.now(UTC)
        changes = [RecordChange(record, now, source) for record in records]
        return await self.index.apply(changes) if changes else Applied()

    def _moved(self, old: CustomerRecord, new: CustomerRecord) -> bool:
        """Whether ``new`` is someone else than ``old`` (an unchanged provider object, the
        usual case, is decided by one dict comparison, without re-reading its keys)."""
        if old.raw == new.raw and old.deleted == new.deleted and old.email == new.email:
            return False
        return identity_view(old, self.identity) != identity_view(new, self.identity)

    async def repair(
        self,
        fresh: Sequence[CustomerRecord],
        missing: Sequence[RecordRef],
        known: Mapping[RecordRef, CustomerRecord] | None = None,
    ) -> bool:
        """Feed the index whatever the fresh fetch shows changed about who these records are
        (read-repair); ``True`` when it changed anything. ``known``: snapshots the index gave
        along with the customers (:attr:`IndexedCustomer.snapshots`); only records without one
        are asked for."""
        snapshots = dict(known or {})
        if unknown := [r.ref for r in fresh if r.ref not in snapshots]:
            snapshots.update(await self.index.records(unknown))
        changed = [
            record
            for record in fresh
            if (old := snapshots.get(record.ref)) is None or self._moved(old, record)
        ]
        gone = [CustomerRecord(ref.provider, ref.id, {}, deleted=True) for ref in missing]
        if not changed and not gone:
            return False
        applied = await self.feed([*changed, *gone], ChangeSource.READ)
        return bool(applied.changed)
