"""The idempotency replay store on Redis: one key, one write, whichever replica gets it.

Same semantics as the in-process :class:`~gateway.writes.idempotency.IdempotencyStore`
(docs/writes.md#idempotency), across replicas:

- **Claim**: the first request with a key sets ``customer-gateway:idempotency:<hash>`` to an
  in-flight marker (its fingerprint and a token of its own) with ``SET NX`` and a lease, in one
  script that otherwise returns what is there. Exactly one request, on any replica, runs.
- **Duplicates** poll the key: a finished result replays (or is refused as reused with other
  arguments); while the marker is there they wait, at most ``wait`` seconds, then answer
  ``IDEMPOTENCY_KEY_IN_PROGRESS``. A marker whose replica died lapses after ``lease`` seconds.
- **Record**: the result replaces the marker (only if it is still ours) for ``ttl`` seconds;
  a request that records nothing (invalid input, a crash) deletes its marker.
- **Redis down**: a keyed mutation is refused with ``IDEMPOTENCY_UNAVAILABLE`` before anything
  is written; writing without being able to record the key could write twice on a retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Final, Generic, TypeVar

from gateway.shared.link import KEY_PREFIX, RedisLink, SharedUnavailable
from gateway.writes.idempotency import (
    DEFAULT_TTL,
    IdempotencyInProgress,
    IdempotencyUnavailable,
    Reservation,
)

__all__ = ["SharedReplayStore"]

T = TypeVar("T")

_CLAIM: Final = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, false}
end
return {0, redis.call('GET', KEYS[1])}
"""
_RECORD: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""
_RELEASE: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

POLL: Final = 0.05
"""Seconds between a duplicate's looks at the key while the first request runs."""

logger = logging.getLogger("customer_gateway.shared")


class SharedReplayStore(Generic[T]):
    """Results by (operation, client key) in Redis, kept ``ttl`` seconds; ``dump``/``load``
    turn a result into JSON and back (:mod:`gateway.shared.codec`)."""

    def __init__(
        self,
        link: RedisLink,
        dump: Callable[[T], str],
        load: Callable[[str | bytes], T],
        *,
        lease: float,
        wait: float,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.link = link
        self.dump = dump
        self.load = load
        self.lease = lease
        self.wait = wait
        self.ttl = ttl
        self.clock = clock
        self._claim = link.client.register_script(_CLAIM)
        self._record = link.client.register_script(_RECORD)
        self._release = link.client.register_script(_RELEASE)

    @asynccontextmanager
    async def reserve(
        self, operation: str, key: str, fingerprint: str
    ) -> AsyncIterator[Reservation[T]]:
        """As :meth:`IdempotencyStore.reserve`, across every replica sharing the Redis."""
        name = (
            f"{KEY_PREFIX}idempotency:" + hashlib.sha256(f"{operation}\0{key}".encode()).hexdigest()
        )
        marker = json.dumps({"fingerprint": fingerprint, "owner": uuid.uuid4().hex})
        give_up = self.clock() + self.wait
        while True:
            claimed, current = await self._run(
                lambda: self._claim(keys=[name], args=[marker, int(self.lease * 1000)])
            )
            if claimed:
                break
            stored = json.loads(current)
            if "result" in stored:
                if stored["fingerprint"] == fingerprint:
                    yield Reservation(replay=self.load(stored["result"]))
                else:
                    yield Reservation(reused=True)
                return
            if self.clock() >= give_up:
                raise IdempotencyInProgress(
                    "a request with this idempotencyKey is still running on another gateway "
                    "instance; resend it later to get its result"
                )
            await asyncio.sleep(POLL)
        reservation: Reservation[T] = Reservation()
        try:
            yield reservation
        except BaseException:
            await self._forget(name, marker)
            raise
        if reservation.recorded is None:
            await self._forget(name, marker)
            return
        result = json.dumps({"fingerprint": fingerprint, "result": self.dump(reservation.recorded)})
        try:
            await self.link.run(
                "idempotency",
                lambda _: self._record(keys=[name], args=[marker, result, int(self.ttl * 1000)]),
            )
        except SharedUnavailable:
            # Written already: the client gets its answer. A retry once the lease lapses would
            # run again; the keys derived for Stripe and Tofupay still dedupe there.
            logger.error("could not record an idempotency key's result: Redis is unavailable")

    async def _run(self, command: Callable[[], Awaitable[Any]]) -> tuple[bool, bytes]:
        try:
            claimed, current = await self.link.run("idempotency", lambda _: command())
        except SharedUnavailable:
            raise IdempotencyUnavailable(
                "idempotency keys cannot be recorded right now (the shared store is "
                "unavailable), so this mutation was refused and nothing was written; retry "
                "shortly"
            ) from None
        return bool(claimed), current

    async def _forget(self, name: str, marker: str) -> None:
        with contextlib.suppress(SharedUnavailable):
            await self.link.run("idempotency", lambda _: self._release(keys=[name], args=[marker]))
