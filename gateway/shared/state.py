"""Everything one app shares with the other replicas on Redis, built and wired in one place.

:func:`gateway.server.create_app` builds a :class:`SharedState` when ``redis_url`` is set
(nothing changes when it is not): the record cache's second level and the idempotency replay
store at once, the shared rate limits and circuit announcements once the lifespan has built
the adapters (:meth:`SharedState.attach`), and the events listener for the app's life.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from gateway.config import Settings
from gateway.core.record_cache import RecordCache
from gateway.providers.contract import ProviderAdapter
from gateway.providers.http import ProviderHTTP
from gateway.providers.resilience import RateLimiter
from gateway.shared.cache import SharedCache
from gateway.shared.circuits import SharedCircuits
from gateway.shared.codec import dump_result, load_result
from gateway.shared.events import Events, Listener
from gateway.shared.idempotency import SharedReplayStore
from gateway.shared.link import RedisLink, SharedUnavailable
from gateway.shared.rate_limit import SharedRateLimiter
from gateway.telemetry.metrics import GatewayMetrics
from gateway.writes.outcomes import MutationResult

__all__ = ["SharedState"]


class SharedState:
    """The Redis link and the shared pieces built on it, for one app."""

    def __init__(self, settings: Settings, metrics: GatewayMetrics | None = None) -> None:
        self.link = RedisLink(settings.redis_url, metrics=metrics)
        self.events = Events(self.link)
        self.cache = SharedCache(self.events)
        self.circuits = SharedCircuits(self.events)
        self.idempotency = SharedReplayStore[MutationResult](
            self.link,
            dump_result,
            load_result,
            # A write ends by the request deadline: a marker outliving two of them was left by
            # a replica that died; a duplicate waits up to half of one, then hears "in progress".
            lease=2 * settings.request_deadline,
            wait=settings.request_deadline / 2,
        )
        self.listener: Listener | None = None

    def __repr__(self) -> str:
        return f"SharedState(url={self.link.url!r})"

    def attach(self, adapters: Mapping[str, ProviderAdapter], cache: RecordCache) -> None:
        """Share each provider's rate limit and circuit, and listen for the others' news."""
        for name, adapter in adapters.items():
            http = getattr(adapter, "http", None)
            if isinstance(http, ProviderHTTP) and isinstance(http.rate_limiter, RateLimiter):
                limiter = SharedRateLimiter(self.link, name, http.rate_limiter)
                http.share(limiter, self.circuits.provider(name))

        async def reconnected() -> None:
            cache.clear()  # invalidations sent while we were away are lost
            with contextlib.suppress(SharedUnavailable):
                await self.circuits.load(adapters)

        def invalidate(message: Mapping[str, Any]) -> None:
            ids = message["record_ids"]
            cache.invalidate(str(message["provider"]), None if ids is None else list(ids))

        self.listener = Listener(
            self.events,
            {"invalidate": invalidate, "circuit": self.circuits.heard},
            reconnected,
        )

    async def start(self) -> None:
        await self.link.check()
        if self.listener is not None:
            self.listener.start()

    async def readiness(self) -> dict[str, object]:
        """The ``/readyz`` entry (Redis down leaves the gateway ready: it serves without)."""
        await self.link.check()
        return self.link.snapshot()

    async def aclose(self) -> None:
        if self.listener is not None:
            await self.listener.aclose()
        await self.link.aclose()
