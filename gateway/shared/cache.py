"""The record cache's second level: lookup answers in Redis, shared by every replica.

:class:`~gateway.core.record_cache.RecordCache` keeps a small LRU in each process and asks this
level for what it misses. Entries live at ``customer-gateway:cache:<provider>:<generation>:
<lookup>:<key>``, hold the wall-clock time they were fetched and the records as JSON
(:mod:`gateway.shared.codec`), and expire ``ttl + stale_ttl`` seconds after it (so an expired
answer can still be served while the provider fails, by any replica).

Invalidation bumps the provider's generation (``INCR``): every key written under the old one
becomes unreachable at once, for every replica, without scanning; they expire on their own.
The generation is read with the entries in one script, so a read that starts after an
invalidation never sees what it replaced. The other replicas' in-process entries are dropped by
the ``invalidate`` message on the events channel (:mod:`gateway.shared.events`).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Final

from gateway.model import CustomerRecord, Lookup
from gateway.shared.codec import dump_records, load_records
from gateway.shared.events import Events
from gateway.shared.link import KEY_PREFIX, SharedUnavailable

__all__ = ["SharedCache", "SharedEntry"]

SharedEntry = tuple[tuple[CustomerRecord, ...], float]
"""An answer found in Redis and its age in seconds."""

_READ: Final = """
local generation = redis.call('GET', KEYS[1]) or '0'
local out = {generation}
for i = 2, #ARGV do
  out[i] = redis.call('GET', ARGV[1] .. generation .. ':' .. ARGV[i]) or false
end
return out
"""
"""The provider's generation and its entries for the keys, in one round trip."""

logger = logging.getLogger("customer_gateway.shared")


def _prefix(provider: str) -> str:
    return f"{KEY_PREFIX}cache:{provider}:"


class SharedCache:
    """Get, put and invalidate answers in Redis; every method degrades to "nothing there"."""

    def __init__(self, events: Events, *, wall: Callable[[], float] = time.time) -> None:
        self.events = events
        self.link = events.link
        self.wall = wall
        self._read = self.link.client.register_script(_READ)

    async def get(
        self, provider: str, by: Lookup, keys: Sequence[str]
    ) -> tuple[str | None, dict[str, SharedEntry]]:
        """The provider's current generation (``None`` when Redis failed) and the entries
        found for ``keys``."""
        args = [_prefix(provider), *(f"{by.value}:{key}" for key in keys)]
        try:
            reply = await self.link.run(
                "cache", lambda _: self._read(keys=[_prefix(provider) + "generation"], args=args)
            )
        except SharedUnavailable:
            return None, {}
        generation, *values = reply
        now = self.wall()
        found: dict[str, SharedEntry] = {}
        for key, value in zip(keys, values, strict=True):
            if value is None:
                continue
            stored, _, body = bytes(value).partition(b" ")
            try:
                found[key] = (load_records(body), max(0.0, now - float(stored)))
            except ValueError:
                logger.warning("ignored an unreadable %s cache entry in Redis", provider)
        return bytes(generation).decode(), found

    async def put(
        self,
        provider: str,
        by: Lookup,
        generation: str | None,
        answers: Mapping[str, tuple[CustomerRecord, ...]],
        keep: float,
    ) -> None:
        """Store fresh answers under ``generation`` (the one read before fetching them, so
        answers fetched across an invalidation land where nobody reads) for ``keep`` s."""
        if generation is None or not answers or keep <= 0:
            return
        stamp = f"{self.wall():.3f} "
        millis = max(1, int(keep * 1000))

        async def store(client: object) -> None:
            async with self.link.client.pipeline(transaction=False) as pipe:
                for key, records in answers.items():
                    name = f"{_prefix(provider)}{generation}:{by.value}:{key}"
                    pipe.set(name, stamp + dump_records(records), px=millis)
                await pipe.execute()

        with contextlib.suppress(SharedUnavailable):
            await self.link.run("cache", store)

    async def invalidate(self, provider: str, record_ids: Collection[str] | None) -> None:
        """Make every replica forget ``provider``'s answers: a new generation in Redis, and
        an ``invalidate`` message for their in-process entries."""
        try:
            await self.link.run("cache", lambda c: c.incr(_prefix(provider) + "generation"))
            ids = None if record_ids is None else sorted(record_ids)
            await self.events.publish("invalidate", "cache", provider=provider, record_ids=ids)
        except SharedUnavailable:
            pass  # the other replicas cannot be told; their entries expire by their TTL
