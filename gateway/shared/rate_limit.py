"""One client-side rate limit per provider for all replicas: GCRA in a Redis script.

Each replica's :class:`~gateway.providers.resilience.RateLimiter` allows ``rate`` requests a
second with bursts of ``burst``; N replicas would send N times that. :class:`SharedRateLimiter`
keeps the provider's one budget in Redis instead, as a generic cell rate algorithm: the key
``customer-gateway:rate:<provider>`` holds the theoretical arrival time of the next request, and
one script (atomic, on Redis's own clock, so replicas' clocks never matter) admits a request or
answers how long to wait. It admits exactly what the token bucket would (``burst`` at once,
then one every ``1/rate`` seconds), for the sum of the replicas. While Redis is unavailable each
replica falls back to its own bucket (the limit is then per replica again, as without Redis).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Final

from gateway.providers.resilience import RateLimiter, Sleep
from gateway.shared.link import KEY_PREFIX, RedisLink, SharedUnavailable

__all__ = ["SharedRateLimiter"]

_GCRA: Final = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local interval = tonumber(ARGV[1])
local tolerance = interval * (tonumber(ARGV[2]) - 1)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if now < tat - tolerance then
  return tat - tolerance - now
end
local next_tat = tat + interval
local keep = math.ceil((next_tat - now) / 1000) + 1
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', keep)
return 0
"""
"""ARGV: microseconds between requests, burst. Returns 0 (admitted) or microseconds to wait."""


class SharedRateLimiter:
    """``acquire()`` as :class:`RateLimiter`'s, against the budget every replica shares."""

    def __init__(
        self,
        link: RedisLink,
        provider: str,
        local: RateLimiter,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.link = link
        self.local = local
        self.rate = local.rate
        self.burst = local.burst
        self.key = f"{KEY_PREFIX}rate:{provider}"
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._script = link.client.register_script(_GCRA)
        self._interval = max(1, round(1_000_000 / self.rate)) if self.rate > 0 else 0

    async def acquire(self) -> float:
        """Wait for the shared budget to admit one request (this replica's waiters in arrival
        order); the seconds waited. Redis unavailable: the replica's own bucket decides."""
        if self.rate <= 0:
            return 0.0
        started = self._clock()
        waited = self._lock.locked()
        async with self._lock:
            while True:
                try:
                    wait = await self.link.run(
                        "rate_limit",
                        lambda _: self._script(keys=[self.key], args=[self._interval, self.burst]),
                    )
                except SharedUnavailable:
                    waited = await self.local.acquire() > 0 or waited
                    break
                if int(wait) <= 0:
                    break
                waited = True
                await self._sleep(int(wait) / 1_000_000)
        return self._clock() - started if waited else 0.0
