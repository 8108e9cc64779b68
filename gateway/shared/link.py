"""The connection to Redis, and whether it is usable right now.

Every shared-state module talks to Redis through one :class:`RedisLink`, which knows when Redis
last failed. While it is down the link refuses at once (:class:`SharedUnavailable`) for a short
back-off instead of letting every request wait for a connect timeout; the callers then use
their in-process fallbacks. Each failure is counted (``customer_gateway_redis_errors``) and the
up/down state is a gauge (``customer_gateway_redis_up``). The URL's password is never shown:
:attr:`RedisLink.url` is masked, and redis-py's messages carry host and port only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from gateway.config.casts import masked_url
from gateway.telemetry.metrics import GatewayMetrics

__all__ = ["KEY_PREFIX", "RedisLink", "SharedUnavailable"]

T = TypeVar("T")

KEY_PREFIX: Final = "customer-gateway:"
"""Every key and channel the gateway uses starts with this (one Redis may serve others too)."""

RETRY_AFTER: Final = 1.0
"""Seconds the link refuses at once after a failure, before trying Redis again."""

TIMEOUT: Final = 0.5
"""Seconds one Redis command (or connect) may take: the shared state is a local network hop
away, so longer means Redis is in trouble and the in-process fallback is the better answer."""

logger = logging.getLogger("customer_gateway.shared")


def _cancelled_meanwhile() -> None:
    """Re-raise a cancellation that arrived while a command ran: redis-py can absorb it (the
    command then completes), and a caller's deadline (``asyncio.timeout``) would never end."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class SharedUnavailable(Exception):
    """Redis could not be used (down, unreachable, refused the command): use the fallback."""


class RedisLink:
    """One pooled redis-py asyncio client, with the up/down bookkeeping the fallbacks need."""

    def __init__(
        self,
        url: str,
        *,
        metrics: GatewayMetrics | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = masked_url(url)
        self.client: Redis = Redis.from_url(
            url,
            socket_timeout=TIMEOUT,
            socket_connect_timeout=TIMEOUT,
            # One immediate retry of a broken connection, on a fresh one: after Redis restarts
            # every pooled connection is dead. No retry after a timeout: the caller's request is
            # waiting, and the in-process fallback is the better answer.
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[RedisConnectionError],
        )
        self._raw_url = url
        self.metrics = metrics
        self.clock = clock
        self.up = False
        self.last_error: str | None = None
        self._retry_at = 0.0
        if metrics is not None:
            metrics.watch_redis(lambda: self.up)

    def __repr__(self) -> str:
        return f"RedisLink(url={self.url!r}, up={self.up})"

    def pubsub_client(self) -> Redis:
        """A client of its own for the subscription: its reads block with no timeout."""
        return Redis.from_url(
            self._raw_url, socket_connect_timeout=TIMEOUT, retry=Retry(NoBackoff(), 0)
        )

    def available(self) -> bool:
        """Whether a command may be tried now (up, or its back-off after a failure is over)."""
        return self.up or self.clock() >= self._retry_at

    async def run(self, operation: str, command: Callable[[Redis], Awaitable[T]]) -> T:
        """``command(client)``, or :class:`SharedUnavailable` (counted, logged once per
        outage) when Redis fails or is still in its back-off. ``operation`` labels the error
        metric (``cache``, ``idempotency``, ``rate_limit``, ``circuit``, ``events``)."""
        if not self.available():
            raise SharedUnavailable(f"Redis at {self.url} is unavailable: {self.last_error}")
        try:
            result = await command(self.client)
        except (RedisError, OSError) as exc:
            self.failed(operation, exc)
            raise SharedUnavailable(f"Redis at {self.url} failed: {self.last_error}") from None
        finally:
            _cancelled_meanwhile()
        self.succeeded()
        return result

    def failed(self, operation: str, exc: BaseException) -> None:
        """Record a failure: down for :data:`RETRY_AFTER` seconds."""
        first = self.up or self.last_error is None  # once per outage, not once per retry
        self.last_error = f"{type(exc).__name__}: {exc}".replace(self._raw_url, self.url)
        if self.metrics is not None:
            self.metrics.redis_error(operation)
        if first:
            logger.warning(
                "Redis at %s unavailable (%s); using in-process fallbacks",
                self.url,
                self.last_error,
            )
        self.up = False
        self._retry_at = self.clock() + RETRY_AFTER

    def succeeded(self) -> None:
        if not self.up:
            logger.info("Redis at %s available; sharing state with the other replicas", self.url)
        self.up = True
        self.last_error = None

    async def check(self) -> bool:
        """PING, for start-up and ``/readyz``; never raises."""
        try:
            await self.run("ping", lambda client: client.ping())
        except SharedUnavailable:
            return False
        return True

    def snapshot(self) -> dict[str, object]:
        """The ``/readyz`` entry: the masked URL, whether Redis is up, and the last error."""
        return {"url": self.url, "up": self.up, "last_error": None if self.up else self.last_error}

    async def aclose(self) -> None:
        await self.client.aclose()
