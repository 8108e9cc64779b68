"""The record cache: lookup answers shared by every request of one app, per provider TTL.

It sits between the per-request loaders (:mod:`gateway.core.loaders`) and the adapters: a
loader's batch asks :meth:`RecordCache.lookup` instead of ``adapter.lookup``. Entries are keyed
per (provider, lookup kind, normalised key) and hold the lookup's answer, records or none (a
"not found" is an answer too); failures are never stored.

- **Coalescing**: concurrent misses for one key, from any request, share one upstream call (one
  flight, a task of its own so a caller hanging up does not cancel the others' answer). A flight
  that fails fails for everyone waiting on it.
- **Stale-if-error**: when the provider fails with a retryable error (timeout, unavailable, rate
  limited) and the key's entry expired less than ``stale_ttl`` seconds ago, the old answer is
  served and the request is told (:func:`~gateway.providers.notices.notice`, which the response
  lists in ``extensions.degradedProviders`` as ``PROVIDER_FALLBACK``).
- **Invalidation**: :meth:`RecordCache.invalidate` drops a provider's entries (all of them, or
  those holding given records) and keeps flights already under way from storing what they fetch.
  The gateway calls it after its own writes; webhooks, events and (later) Redis pub/sub call the
  same method.
- **Fresh reads**: ``fresh=True`` skips reading (and joining flights) but stores the answer.

With Redis configured (:mod:`gateway.shared.cache`) this cache is the first level, a small LRU
in front of a **second level** every replica shares: a flight reads Redis before calling the
provider and stores what it fetched there; :meth:`RecordCache.invalidate_everywhere` (after the
gateway's own writes) drops the entries in every replica. Coalescing stays per process: two
replicas missing one key at once make two calls. Without Redis the cache is per process.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from gateway.config import CachePolicy, Settings
from gateway.errors import ProviderError
from gateway.model import CustomerRecord, Lookup
from gateway.providers.contract import ProviderAdapter
from gateway.providers.notices import notice
from gateway.providers.upstream.redact import without_paths
from gateway.telemetry.metrics import GatewayMetrics

__all__ = ["Answer", "RecordCache", "SecondLevel"]

Answer = tuple[CustomerRecord, ...] | ProviderError
"""One key's outcome: the records found (maybe none), or the failure."""

_Key = tuple[str, Lookup, str]
"""(provider, lookup kind, normalised key)."""


class SecondLevel(Protocol):
    """The shared level behind the in-process one (:class:`gateway.shared.cache.SharedCache`).
    Its methods never raise for an unavailable store: they find nothing and store nothing."""

    async def get(
        self, provider: str, by: Lookup, keys: Sequence[str]
    ) -> tuple[str | None, dict[str, tuple[tuple[CustomerRecord, ...], float]]]: ...

    async def put(
        self,
        provider: str,
        by: Lookup,
        generation: str | None,
        answers: Mapping[str, tuple[CustomerRecord, ...]],
        keep: float,
    ) -> None: ...

    async def invalidate(self, provider: str, record_ids: Collection[str] | None) -> None: ...


@dataclass(frozen=True, slots=True)
class _Entry:
    records: tuple[CustomerRecord, ...]
    stored: float


@dataclass(slots=True, eq=False)
class _Flight:
    task: asyncio.Task[dict[str, tuple[CustomerRecord, ...]]]
    generation: int


class RecordCache:
    """Lookup answers per (provider, lookup kind, key), least recently used dropped first."""

    def __init__(
        self,
        policies: Mapping[str, CachePolicy],
        *,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        metrics: GatewayMetrics | None = None,
        second: SecondLevel | None = None,
    ) -> None:
        self.policies = dict(policies)
        self.second = second
        self.max_entries = max_entries
        self.clock = clock
        self.metrics = metrics
        self._entries: OrderedDict[_Key, _Entry] = OrderedDict()
        self._flights: dict[_Key, _Flight] = {}
        self._generation: dict[str, int] = {}

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        metrics: GatewayMetrics | None = None,
        second: SecondLevel | None = None,
    ) -> RecordCache:
        policies = {name: p.cache for name, p in settings.providers.items()}
        return cls(policies, max_entries=settings.record_cache_size, metrics=metrics, second=second)

    def enabled(self, provider: str) -> bool:
        policy = self.policies.get(provider)
        return policy is not None and policy.ttl > 0

    def __len__(self) -> int:
        return len(self._entries)

    def held(self, provider: str) -> int:
        """Entries held for ``provider`` (fresh or not)."""
        return sum(1 for full in self._entries if full[0] == provider)

    async def lookup(
        self,
        adapter: ProviderAdapter,
        by: Lookup,
        values: Sequence[str],
        keys: Sequence[str],
        *,
        fresh: bool = False,
    ) -> list[Answer]:
        """``adapter.lookup(by, values)`` through the cache: one answer per value, in order.
        ``keys`` are the values normalised (distinct), which the entries are stored under."""
        provider = adapter.name
        policy = self.policies.get(provider, CachePolicy())
        now = self.clock()
        answers: dict[str, tuple[CustomerRecord, ...]] = {}
        joined: dict[str, _Flight] = {}
        missing: list[tuple[str, str]] = []
        for value, key in zip(values, keys, strict=True):
            full = (provider, by, key)
            if not fresh:
                entry = self._entries.get(full)
                if entry is not None and now - entry.stored < policy.ttl:
                    self._entries.move_to_end(full)
                    answers[key] = entry.records
                    continue
                flight = self._flights.get(full)
                if flight is not None:
                    joined[key] = flight
                    continue
            missing.append((value, key))
        self._count(provider, "hit", len(answers))
        self._count(provider, "coalesced", len(joined))
        self._count(provider, "miss", len(missing))
        failed: dict[str, ProviderError] = {}
        waits: dict[_Flight, list[str]] = {}
        if missing:
            own = self._fly(adapter, by, missing, register=not fresh)
            waits[own] = [key for _, key in missing]
        for key, flight in joined.items():
            waits.setdefault(flight, []).append(key)
        for flight, wanted in waits.items():
            try:
                found = await asyncio.shield(flight.task)
            except ProviderError as exc:
                failed.update(dict.fromkeys(wanted, exc))
            else:
                answers.update((key, found[key]) for key in wanted)
        if failed and not fresh:
            answers.update(self._stale(provider, by, policy, failed))
        return [answers[key] if key in answers else failed[key] for key in keys]

    async def invalidate_everywhere(
        self, provider: str, record_ids: Collection[str] | None = None
    ) -> int:
        """:meth:`invalidate` here and, through the second level, in every replica."""
        dropped = self.invalidate(provider, record_ids)
        if self.second is not None:
            await self.second.invalidate(provider, record_ids)
        return dropped

    def clear(self) -> None:
        """Forget everything (the invalidations of a Redis outage were missed)."""
        for provider in {full[0] for full in (*self._entries, *self._flights)}:
            self.invalidate(provider)

    def invalidate(self, provider: str, record_ids: Collection[str] | None = None) -> int:
        """Drop ``provider``'s entries that a change may have made wrong; returns how many.

        Without ``record_ids``: every entry of the provider (a write can move an email or a
        link onto a record, so even answers not holding it may change). With them: the entries
        holding one of those records, and every empty answer (a new record may now match);
        use it only for changes that cannot move keys between records. Flights under way for
        the provider finish for their callers but store nothing.
        """
        self._generation[provider] = self._generation.get(provider, 0) + 1
        for full in [k for k in self._flights if k[0] == provider]:
            del self._flights[full]
        wanted = None if record_ids is None else set(record_ids)
        doomed = [
            full
            for full, entry in self._entries.items()
            if full[0] == provider
            and (wanted is None or not entry.records or any(r.id in wanted for r in entry.records))
        ]
        for full in doomed:
            del self._entries[full]
        return len(doomed)

    def _fly(
        self,
        adapter: ProviderAdapter,
        by: Lookup,
        missing: Sequence[tuple[str, str]],
        *,
        register: bool,
    ) -> _Flight:
        """One upstream call for ``missing`` in a task of its own, stored on success."""
        provider = adapter.name
        generation = self._generation.get(provider, 0)

        async def fetch() -> dict[str, tuple[CustomerRecord, ...]]:
            try:
                shared, found = await self._from_second(provider, by, missing, register)
                if self._generation.get(provider, 0) != generation:
                    found = {}  # invalidated meanwhile: what Redis held is no answer now
                answers = self._shared_answers(provider, by, found)
                rest = [(value, key) for value, key in missing if key not in answers]
                if rest:
                    lists = await adapter.lookup(by, [value for value, _ in rest])
                    pairs = zip(rest, lists, strict=True)
                    fetched = {key: tuple(records) for (_, key), records in pairs}
                    answers.update(fetched)
                    if self.second is not None:
                        policy = self.policies.get(provider, CachePolicy())
                        keep = policy.ttl + policy.stale_ttl
                        await self.second.put(provider, by, shared, fetched, keep)
                    if self._generation.get(provider, 0) == generation:
                        self._store(provider, by, fetched)
            finally:
                for _, key in missing:
                    full = (provider, by, key)
                    if self._flights.get(full) is flight:
                        del self._flights[full]
            return answers

        flight = _Flight(asyncio.ensure_future(fetch()), generation)
        flight.task.add_done_callback(_retrieve)
        if register:
            for _, key in missing:
                self._flights[(provider, by, key)] = flight
        return flight

    async def _from_second(
        self, provider: str, by: Lookup, missing: Sequence[tuple[str, str]], read: bool
    ) -> tuple[str | None, dict[str, tuple[tuple[CustomerRecord, ...], float]]]:
        """The second level's generation and what it holds for ``missing``, with ages
        (nothing for a fresh read, which only needs the generation to store under)."""
        if self.second is None:
            return None, {}
        return await self.second.get(provider, by, [key for _, key in missing] if read else [])

    def _shared_answers(
        self,
        provider: str,
        by: Lookup,
        found: Mapping[str, tuple[tuple[CustomerRecord, ...], float]],
    ) -> dict[str, tuple[CustomerRecord, ...]]:
        """Keep what the second level held here with its real age (an expired answer can still
        serve stale-if-error if the provider call fails); return the answers still fresh."""
        ttl = self.policies.get(provider, CachePolicy()).ttl
        self._store(
            provider,
            by,
            {key: records for key, (records, _) in found.items()},
            ages={key: age for key, (_, age) in found.items()},
        )
        fresh = {key: records for key, (records, age) in found.items() if age < ttl}
        self._count(provider, "shared", len(fresh))
        return fresh

    def _store(
        self,
        provider: str,
        by: Lookup,
        answers: Mapping[str, tuple[CustomerRecord, ...]],
        ages: Mapping[str, float] | None = None,
    ) -> None:
        now = self.clock()
        for key, records in answers.items():
            full = (provider, by, key)
            self._entries[full] = _Entry(records, now - (ages or {}).get(key, 0.0))
            self._entries.move_to_end(full)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def _stale(
        self,
        provider: str,
        by: Lookup,
        policy: CachePolicy,
        failed: Mapping[str, ProviderError],
    ) -> dict[str, tuple[CustomerRecord, ...]]:
        """The expired answers still inside the stale window, for keys whose fetch failed
        retryably; the request is told which provider it got old data from."""
        now = self.clock()
        served: dict[str, tuple[CustomerRecord, ...]] = {}
        for key, error in failed.items():
            entry = self._entries.get((provider, by, key))
            if not error.retryable or entry is None:
                continue
            age = now - entry.stored
            if age >= policy.ttl + policy.stale_ttl:
                continue
            served[key] = entry.records
            # Notices reach every caller: the error's request paths (customer ids) stay out.
            notice(provider, f"served from cache, {age:.0f} s old: {without_paths(error.message)}")
        self._count(provider, "stale", len(served))
        return served

    def _count(self, provider: str, result: str, count: int) -> None:
        if self.metrics is not None:
            self.metrics.cache_lookups(provider, result, count)


def _retrieve(task: asyncio.Task[object]) -> None:
    """Mark a flight's failure as seen (its callers may all have gone)."""
    if not task.cancelled():
        task.exception()
