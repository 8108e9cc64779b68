"""Per-request dataloaders: one per (provider, lookup kind).

Each (provider, key) is fetched at most once per request: results and failures are both cached
(a failure is cached as a :class:`LookupResult` rather than raised through the loader, which
would evict the key and let a sibling field fetch it again). A record found by any lookup primes
the loaders of the lookups that identify it uniquely in its provider, so a later hop asking for
it by another key costs no call.

Below the loaders, the app's :class:`~gateway.core.record_cache.RecordCache` (when the
provider's ``cache_ttl`` turns it on) shares answers between requests. Reads inside
:func:`fresh_reads` use a second set of loaders that skip it (the answers they fetch still
refresh it), so one request can mix fresh and cached root fields without one batch serving both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass

from aiodataloader import DataLoader

from gateway.bound import Bound
from gateway.config import IdentitySettings
from gateway.core.record_cache import RecordCache
from gateway.errors import ProviderError
from gateway.identity import expansion_lookups, normalise_email
from gateway.model import CustomerRecord, Lookup
from gateway.providers.contract import ProviderAdapter


@dataclass(frozen=True, slots=True)
class LookupResult:
    records: tuple[CustomerRecord, ...] = ()
    error: ProviderError | None = None


_fresh: ContextVar[bool] = ContextVar("fresh_reads", default=False)


def fresh_reads(fresh: bool = True) -> Bound[bool, None]:
    """Loads within the ``with`` block (and the tasks it starts) skip the record cache when
    ``fresh``."""
    return Bound(_fresh, fresh or _fresh.get(), None)


def reading_fresh() -> bool:
    """Whether loads here skip the record cache (inside :func:`fresh_reads`)."""
    return _fresh.get()


class _LookupLoader(DataLoader[str, LookupResult]):
    def __init__(
        self,
        adapter: ProviderAdapter,
        by: Lookup,
        placeholders: frozenset[str],
        cache: RecordCache | None = None,
        *,
        fresh: bool = False,
    ) -> None:
        self.adapter = adapter
        self.by = by
        self.placeholders = placeholders
        self.records = cache if cache is not None and cache.enabled(adapter.name) else None
        self.fresh = fresh
        self.answers: dict[str, asyncio.Future[LookupResult]] = {}
        """The request's answers (and loads under way) by cache key: the loader's own cache."""
        super().__init__(cache_map=self.answers)

    def get_cache_key(self, key: str) -> str:
        return cache_key(self.by, key, self.placeholders)

    async def batch_load_fn(self, keys: Sequence[str]) -> list[LookupResult]:
        if self.records is not None:
            normalised = [self.get_cache_key(key) for key in keys]
            answers = await self.records.lookup(
                self.adapter, self.by, keys, normalised, fresh=self.fresh
            )
            return [
                LookupResult(error=a) if isinstance(a, ProviderError) else LookupResult(records=a)
                for a in answers
            ]
        try:
            found = await self.adapter.lookup(self.by, list(keys))
        except ProviderError as exc:
            return [LookupResult(error=exc) for _ in keys]
        return [LookupResult(records=tuple(records)) for records in found]


def cache_key(by: Lookup, value: str, placeholders: frozenset[str]) -> str:
    if by is Lookup.EMAIL:
        return normalise_email(value, placeholders) or value
    return value


class Loaders:
    """The request's loaders, built fresh for every request (never shared between users)."""

    def __init__(
        self,
        adapters: Mapping[str, ProviderAdapter],
        identity: IdentitySettings,
        cache: RecordCache | None = None,
    ) -> None:
        self.adapters = adapters
        self.identity = identity
        self.cache = cache
        self._sets: dict[bool, dict[tuple[str, Lookup], _LookupLoader]] = {}
        """Per set (fresh or not), the loaders built so far: each on first use, as most
        requests touch a few of the (provider, lookup) pairs."""
        self._unwalked: dict[tuple[bool, str], list[CustomerRecord]] = {}
        """Per set and provider, records primed by id only: their other unique lookups (email,
        link keys) are primed when that provider is first asked by one of them. A page primes
        a hundred records no later hop asks for again, and walking their keys is not free."""
        self._walked: set[tuple[bool, str]] = set()
        """Per set, the providers whose records are primed by every unique lookup at once."""

    def _fresh_set(self) -> bool:
        """Which set the current reads use: without a record cache every read is fresh."""
        return self.cache is not None and _fresh.get()

    def _loader(self, provider: str, by: Lookup) -> _LookupLoader:
        """The current set's loader for ``(provider, by)`` (the fresh set inside
        :func:`fresh_reads`; without a record cache every read is fresh, so one set serves).
        ``KeyError`` when the provider is not configured or cannot look up ``by``."""
        fresh = self._fresh_set()
        self._walk(fresh, provider, by)
        built = self._sets.setdefault(fresh, {})
        loader = built.get((provider, by))
        if loader is None:
            adapter = self.adapters.get(provider)
            if adapter is None or by not in adapter.capabilities.lookups:
                raise KeyError((provider, by))
            placeholders = self.identity.placeholder_emails
            loader = _LookupLoader(adapter, by, placeholders, self.cache, fresh=fresh)
            built[(provider, by)] = loader
        return loader

    def uncached(self, provider: str) -> bool:
        """Whether no record cache stands between this request's loads and ``provider`` (every
        load there is a call), so answers found another way cannot bypass what it would do."""
        return self.cache is None or not self.cache.enabled(provider)

    def holds(self, provider: str, by: Lookup, value: str) -> bool:
        """Whether this request already has (or is fetching) the answer for ``value``."""
        fresh = self._fresh_set()
        self._walk(fresh, provider, by)
        loader = self._sets.get(fresh, {}).get((provider, by))
        return loader is not None and loader.get_cache_key(value) in loader.answers

    def providers_for(self, by: Lookup) -> list[str]:
        return [
            name for name, adapter in self.adapters.items() if by in adapter.capabilities.lookups
        ]

    async def load(self, provider: str, by: Lookup, value: str) -> LookupResult:
        result: LookupResult = await self._loader(provider, by).load(value)
        if result.records:
            self.prime(result.records)
        return result

    def load_many(
        self, provider: str, by: Lookup, values: Sequence[str]
    ) -> asyncio.Future[list[LookupResult]]:
        """:meth:`load` for many values of one provider at once: the loader's one future for
        all of them, not a coroutine (``gather`` makes a task of each coroutine; a page reads
        a hundred records by id). What it finds primes the request's other lookups as it
        arrives, before whoever awaits it resumes."""
        found: asyncio.Future[list[LookupResult]] = self._loader(provider, by).load_many(values)
        found.add_done_callback(self._prime_found)
        return found

    def _prime_found(self, found: asyncio.Future[list[LookupResult]]) -> None:
        if found.cancelled() or found.exception() is not None:
            return
        for result in found.result():
            if result.records:
                self.prime(result.records)

    def prime(self, records: Sequence[CustomerRecord]) -> None:
        """Seed unique-lookup loaders (of the current set) with records found another way.

        Every value primed is the record's own (its id, or a lookup its email or link keys
        imply), so none can seed a loader with a record it does not name. Ids are primed at
        once; a provider's other unique lookups once it is first asked by one (:meth:`_walk`),
        before that lookup loads or answers :meth:`holds`, so what it finds is the same."""
        fresh = self._fresh_set()
        for record in records:
            adapter = self.adapters.get(record.provider)
            if adapter is None or record.deleted:
                continue
            capabilities = adapter.capabilities
            if Lookup.ID in capabilities.unique_lookups and Lookup.ID in capabilities.lookups:
                self._loader(record.provider, Lookup.ID).prime(
                    record.id, LookupResult(records=(record,))
                )
            if not capabilities.unique_lookups - {Lookup.ID}:
                continue
            if (fresh, record.provider) in self._walked:
                self._prime_keys(record)
            else:
                self._unwalked.setdefault((fresh, record.provider), []).append(record)

    def _walk(self, fresh: bool, provider: str, by: Lookup) -> None:
        """Before ``provider`` is first asked by a lookup other than id: prime its unique
        lookups other than id with the records seen so far, and every record after them
        straight away."""
        if by is Lookup.ID or (fresh, provider) in self._walked:
            return
        self._walked.add((fresh, provider))
        for record in self._unwalked.pop((fresh, provider), ()):
            self._prime_keys(record)

    def _prime_keys(self, record: CustomerRecord) -> None:
        capabilities = self.adapters[record.provider].capabilities
        for by, value in expansion_lookups(record, self.identity):
            if by in capabilities.unique_lookups and by in capabilities.lookups:
                self._loader(record.provider, by).prime(value, LookupResult(records=(record,)))

    def clear(self, records: Sequence[CustomerRecord]) -> None:
        """Forget what this request cached about the providers these records live in (after
        writes to them), so the next read sees the written state.

        Dropping only the lookups that returned one of the records is not enough: a write can
        also make a lookup that answered *other* records, nothing, or an error answer
        differently (an email moved onto this record, a new record created), and no other
        provider's answers change. So every cached lookup of each written provider goes.
        """
        self.clear_providers({record.provider for record in records})

    def clear_providers(self, providers: Iterable[str]) -> None:
        """Forget every cached lookup in these providers (also after a failed write, which may
        still have happened upstream)."""
        wanted = set(providers)
        for key in [key for key in self._unwalked if key[1] in wanted]:
            del self._unwalked[key]
        for loaders in self._sets.values():
            for (provider, _), loader in loaders.items():
                if provider in wanted:
                    loader.clear_all()

    def release(self) -> None:
        """Drop every loader and what it holds, once the request is answered (see
        :meth:`RequestContext.release`); a later load would start afresh."""
        self._sets.clear()
        self._unwalked.clear()
        self._walked.clear()

    def clear_all(self) -> None:
        self._unwalked.clear()
        for loaders in self._sets.values():
            for loader in loaders.values():
                loader.clear_all()
