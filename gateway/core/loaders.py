"""Per-request dataloaders: one per (provider, lookup kind).

Each (provider, key) is fetched at most once per request: results and failures are both cached
(a failure is cached as a :class:`LookupResult` rather than raised through the loader, which
would evict the key and let a sibling field fetch it again). A record found by any lookup primes
the loaders of the lookups that identify it uniquely in its provider, so a later hop asking for
it by another key costs no call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from aiodataloader import DataLoader

from gateway.config import IdentitySettings
from gateway.errors import ProviderError
from gateway.identity import expansion_lookups, normalise_email
from gateway.model import CustomerRecord, Lookup
from gateway.providers.contract import ProviderAdapter


@dataclass(frozen=True, slots=True)
class LookupResult:
    records: tuple[CustomerRecord, ...] = ()
    error: ProviderError | None = None


class _LookupLoader(DataLoader[str, LookupResult]):
    def __init__(self, adapter: ProviderAdapter, by: Lookup, placeholders: frozenset[str]) -> None:
        self.adapter = adapter
        self.by = by
        self.placeholders = placeholders
        super().__init__()

    def get_cache_key(self, key: str) -> str:
        return cache_key(self.by, key, self.placeholders)

    async def batch_load_fn(self, keys: Sequence[str]) -> list[LookupResult]:
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

    def __init__(self, adapters: Mapping[str, ProviderAdapter], identity: IdentitySettings) -> None:
        self.adapters = adapters
        self.identity = identity
        self._loaders: dict[tuple[str, Lookup], _LookupLoader] = {}
        for name, adapter in adapters.items():
            for by in adapter.capabilities.lookups:
                self._loaders[(name, by)] = _LookupLoader(adapter, by, identity.placeholder_emails)

    def providers_for(self, by: Lookup) -> list[str]:
        return [name for (name, kind) in self._loaders if kind is by]

    async def load(self, provider: str, by: Lookup, value: str) -> LookupResult:
        result: LookupResult = await self._loaders[(provider, by)].load(value)
        if result.records:
            self.prime(result.records)
        return result

    def prime(self, records: Sequence[CustomerRecord]) -> None:
        """Seed unique-lookup loaders with records found another way."""
        for record in records:
            adapter = self.adapters.get(record.provider)
            if adapter is None or record.deleted:
                continue
            unique = adapter.capabilities.unique_lookups
            pairs: set[tuple[Lookup, str]] = {(Lookup.ID, record.id)}
            pairs |= set(expansion_lookups(record, self.identity))
            for by, value in pairs:
                loader = self._loaders.get((record.provider, by))
                if loader is None or by not in unique:
                    continue
                if not _identifies(record, by, value, self.identity):
                    continue
                loader.prime(value, LookupResult(records=(record,)))

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
        for (provider, _), loader in self._loaders.items():
            if provider in wanted:
                loader.clear_all()

    def clear_all(self) -> None:
        for loader in self._loaders.values():
            loader.clear_all()


def _identifies(record: CustomerRecord, by: Lookup, value: str, identity: IdentitySettings) -> bool:
    """Whether ``value`` really is this record's own value for ``by`` (guards mis-priming)."""
    if by is Lookup.ID:
        return value == record.id
    if by is Lookup.EMAIL:
        mine = normalise_email(record.email, identity.placeholder_emails)
        return mine is not None and mine == normalise_email(value, identity.placeholder_emails)
    return (by, value) in expansion_lookups(record, identity)
