"""The identity index with its who-is-who answers kept in memory for a moment.

Every lookup asks the index who a customer is before fetching the member records; on a busy
gateway the same few customers are asked for again and again, and each answer is several small
queries. :class:`CachedIndex` keeps those answers (customer by id, by record, by email, by link
key) for ``ttl`` seconds, at most ``size`` of them. Only *who* is cached: the records are still
fetched fresh from the providers on every read.

Anything written through this object (the sync, webhooks, write-through, read-repair,
overrides) empties the cache, so this process never reads its own writes stale. Another
replica's writes to a shared PostgreSQL index are seen within ``ttl``. A read that began
before a write is not stored (a generation count guards it).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final, TypeVar

from gateway.identity.keys import MatchKey
from gateway.identity.overrides import Override
from gateway.index.contract import (
    Applied,
    IdentityIndex,
    IndexedCustomer,
    IndexPage,
    IndexStats,
    PageQuery,
    RecordChange,
    SyncCursor,
)
from gateway.model import CustomerRecord, RecordRef

__all__ = ["CachedIndex"]

_T = TypeVar("_T")
_MISS: Final[Any] = object()
"""What :meth:`CachedIndex._held` answers for a key without a live entry (``None`` is an
answer: the index does not know that id)."""


class CachedIndex:
    """An :class:`IdentityIndex` in front of another, caching its identity lookups."""

    def __init__(
        self,
        index: IdentityIndex,
        *,
        ttl: float,
        size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = index
        self._ttl = ttl
        self._size = size
        self._clock = clock
        self._entries: OrderedDict[tuple[str, Any], tuple[float, Any]] = OrderedDict()
        self._generation = 0

    def __repr__(self) -> str:
        return f"CachedIndex({self.inner!r}, ttl={self._ttl})"

    def clear(self) -> None:
        self._entries.clear()
        self._generation += 1

    def _held(self, key: tuple[str, Any]) -> Any:
        """The live answer kept under ``key``, else ``_MISS``."""
        found = self._entries.get(key)
        if found is None or found[0] <= self._clock():
            return _MISS
        self._entries.move_to_end(key)
        return found[1]

    def _keep(self, key: tuple[str, Any], value: object, generation: int) -> None:
        """Store an answer read during ``generation``, unless a write came meanwhile (then it
        may already be stale)."""
        if generation != self._generation:
            return
        self._entries[key] = (self._clock() + self._ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    async def _cached(self, key: tuple[str, Any], load: Callable[[], Awaitable[_T]]) -> _T:
        held = self._held(key)
        if held is not _MISS:
            kept: _T = held
            return kept
        generation = self._generation
        value = await load()
        self._keep(key, value, generation)
        return value

    # -- cached reads ------------------------------------------------------------------------

    async def customer(self, customer_id: str) -> IndexedCustomer | None:
        return await self._cached(("id", customer_id), lambda: self.inner.customer(customer_id))

    async def customers(self, ids: Sequence[str]) -> Mapping[str, IndexedCustomer]:
        """Each id answered from its own :meth:`customer` entry when one is kept; the rest read
        in one batch and kept per id (unknown ones too, as :meth:`customer` keeps ``None``)."""
        out: dict[str, IndexedCustomer] = {}
        missed: list[str] = []
        for customer_id in dict.fromkeys(ids):
            held = self._held(("id", customer_id))
            if held is _MISS:
                missed.append(customer_id)
            elif held is not None:
                out[customer_id] = held
        if missed:
            generation = self._generation
            found = await self.inner.customers(missed)
            for customer_id in missed:
                answer = found.get(customer_id)
                self._keep(("id", customer_id), answer, generation)
                if answer is not None:
                    out[customer_id] = answer
        return out

    async def customer_of(self, ref: RecordRef) -> IndexedCustomer | None:
        return await self._cached(("ref", ref), lambda: self.inner.customer_of(ref))

    async def customers_by_email(self, email: str) -> Sequence[IndexedCustomer]:
        return await self._cached(("email", email), lambda: self.inner.customers_by_email(email))

    async def customers_by_key(self, key: MatchKey) -> Sequence[IndexedCustomer]:
        return await self._cached(("key", key), lambda: self.inner.customers_by_key(key))

    # -- writes: through, then the cache is emptied -----------------------------------------

    async def apply(self, changes: Sequence[RecordChange]) -> Applied:
        try:
            return await self.inner.apply(changes)
        finally:
            self.clear()

    async def add_override(self, override: Override) -> Applied:
        try:
            return await self.inner.add_override(override)
        finally:
            self.clear()

    # -- the rest, as the index answers ------------------------------------------------------

    async def records(self, refs: Sequence[RecordRef]) -> Mapping[RecordRef, CustomerRecord]:
        return await self.inner.records(refs)

    async def page(self, query: PageQuery) -> IndexPage:
        return await self.inner.page(query)

    async def overrides(self, refs: Sequence[RecordRef] | None = None) -> Sequence[Override]:
        return await self.inner.overrides(refs)

    async def cursor(self, provider: str, stream: str) -> SyncCursor | None:
        return await self.inner.cursor(provider, stream)

    async def save_cursor(self, cursor: SyncCursor) -> None:
        await self.inner.save_cursor(cursor)

    async def stats(self) -> IndexStats:
        return await self.inner.stats()

    async def aclose(self) -> None:
        await self.inner.aclose()
