"""Per-key inbound limits: a request token bucket and a per-minute budget of estimated
upstream calls, both :class:`~gateway.providers.resilience.RateLimiter` buckets keyed by the
caller's key id, so one caller's burst or expensive queries cannot starve the others."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from gateway.config.settings import InboundLimits
from gateway.providers.resilience import RateLimiter

__all__ = ["MAX_TRACKED_KEYS", "KeyedBuckets", "PerKeyLimits"]

MAX_TRACKED_KEYS: Final = 10_000
"""Buckets kept before idle (full) ones are dropped: JWT subjects are not a fixed list."""


class KeyedBuckets:
    """One token bucket per key, made on first use; a rate of 0 turns them all off."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, RateLimiter] = {}

    @property
    def on(self) -> bool:
        return self.rate > 0

    def take(self, key: str, tokens: float = 1) -> float:
        """0 when ``tokens`` were taken from ``key``'s bucket, else seconds until they can be."""
        if not self.on:
            return 0.0
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED_KEYS:
                self._forget_idle()
            bucket = self._buckets[key] = RateLimiter(self.rate, self.burst, clock=self._clock)
        return bucket.try_acquire(tokens)

    def _forget_idle(self) -> None:
        """Drop full buckets: a fresh one starts full, so nothing is forgiven."""
        for key in [k for k, b in self._buckets.items() if b.tokens >= b.burst]:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


class PerKeyLimits:
    """What the gateway holds per key: requests per second, and estimated cost per minute."""

    def __init__(self, limits: InboundLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.requests = KeyedBuckets(limits.rate, limits.burst, clock)
        self.budget = limits.cost_per_minute
        self.costs = KeyedBuckets(
            limits.cost_per_minute / 60, max(1, limits.cost_per_minute), clock
        )

    def admit(self, key: str) -> float:
        """Count one request: 0, or the seconds to wait before the next one is admitted."""
        return self.requests.take(key)

    def charge(self, key: str, cost: int) -> float | None:
        """Spend ``cost`` of the key's minute budget: 0, the seconds until enough has refilled,
        or ``None`` when the cost is more than the whole budget (it never will)."""
        if not self.costs.on or cost <= 0:
            return 0.0
        if cost > self.budget:
            return None
        return self.costs.take(key, cost)
