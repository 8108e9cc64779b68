"""Client idempotency keys: a bounded, in-memory replay store and per-provider derived keys.

A mutation sent with an ``idempotencyKey`` runs once. The store remembers, per
(operation, key), a fingerprint of the arguments and the result: the same key with the same
arguments replays the result without writing again; with different arguments it is refused
(``IDEMPOTENCY_KEY_REUSED``). A request arriving while the first one with its key is still
running waits for it, then replays. Entries live for :data:`DEFAULT_TTL` (24 hours, like
Stripe's keys) and the store holds at most ``max_entries`` (least recently used dropped
first). It is per process: a restart or another replica does not know the keys; the derived
keys sent to Stripe and Tofupay still make their own replays safe there. With Redis configured,
:class:`gateway.shared.idempotency.SharedReplayStore` takes its place (:class:`ReplayStore`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import asdict, dataclass, field, is_dataclass
from enum import Enum
from typing import Any, Final, Generic, Protocol, TypeVar

from gateway.errors import ErrorCode, GatewayError

DEFAULT_TTL: Final = 24 * 3600.0
DEFAULT_MAX_ENTRIES: Final = 10_000

T = TypeVar("T")
StoreKey = tuple[str, str]


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"cannot fingerprint a {type(value).__name__}")


def fingerprint(arguments: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of a mutation's arguments (sorted keys, no spaces)."""
    canonical = json.dumps(
        arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_jsonable
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def derive_key(client_key: str, operation: str, provider: str, record_id: str | None = None) -> str:
    """The key sent to one provider for one write: 64 hex characters (Stripe allows 255).

    Deterministic, so a retry after a gateway restart still dedupes at the provider; distinct
    per operation, provider and record, so one client key never collides with itself.
    """
    scope = f"{client_key}:{operation}:{provider}"
    if record_id is not None:
        scope += f":{record_id}"
    return hashlib.sha256(scope.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class _Entry(Generic[T]):
    fingerprint: str
    value: T
    stored_at: float


@dataclass(slots=True)
class Reservation(Generic[T]):
    """What :meth:`IdempotencyStore.reserve` found: a result to replay, a reused key, or the
    go-ahead to run (then :meth:`record` the result to have it remembered)."""

    replay: T | None = None
    reused: bool = False
    recorded: T | None = field(default=None, init=False)

    @property
    def fresh(self) -> bool:
        return self.replay is None and not self.reused

    def record(self, value: T) -> None:
        self.recorded = value


class IdempotencyUnavailable(GatewayError):
    """A keyed mutation refused because its key cannot be recorded (the shared store is
    down): running it could write twice when the client retries. Nothing was written."""

    code = ErrorCode.IDEMPOTENCY_UNAVAILABLE


class IdempotencyInProgress(GatewayError):
    """Another replica still runs the mutation sent with this key, past how long a duplicate
    waits for it."""

    code = ErrorCode.IDEMPOTENCY_KEY_IN_PROGRESS


class ReplayStore(Protocol[T]):
    """What the write service needs of a replay store: :meth:`IdempotencyStore.reserve`."""

    def reserve(
        self, operation: str, key: str, fingerprint: str
    ) -> AbstractAsyncContextManager[Reservation[T]]: ...


class IdempotencyStore(Generic[T]):
    """Bounded LRU of results by (operation, client key), each kept for ``ttl`` seconds."""

    def __init__(
        self,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1 or ttl <= 0:
            raise ValueError("max_entries must be >= 1 and ttl > 0")
        self.max_entries = max_entries
        self.ttl = ttl
        self.clock = clock
        self._entries: OrderedDict[StoreKey, _Entry[T]] = OrderedDict()
        self._locks: dict[StoreKey, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        """Entries that would still replay."""
        now = self.clock()
        return sum(1 for e in self._entries.values() if now - e.stored_at < self.ttl)

    @asynccontextmanager
    async def reserve(
        self, operation: str, key: str, fingerprint: str
    ) -> AsyncIterator[Reservation[T]]:
        """Hold ``key`` for the block. Inside, a fresh reservation runs the mutation and calls
        :meth:`Reservation.record`; what it records is stored when the block ends normally.

        Requests with one key run one at a time, so a concurrent duplicate replays the first
        result instead of writing again.
        """
        store_key = (operation, key)
        lock = self._acquire_lock(store_key)
        try:
            async with lock:
                entry = self._get(store_key)
                if entry is None:
                    reservation: Reservation[T] = Reservation()
                elif entry.fingerprint == fingerprint:
                    reservation = Reservation(replay=entry.value)
                else:
                    reservation = Reservation(reused=True)
                yield reservation
                if reservation.fresh and reservation.recorded is not None:
                    self._put(store_key, _Entry(fingerprint, reservation.recorded, self.clock()))
        finally:
            self._release_lock(store_key)

    def _acquire_lock(self, store_key: StoreKey) -> asyncio.Lock:
        lock, users = self._locks.get(store_key, (asyncio.Lock(), 0))
        self._locks[store_key] = (lock, users + 1)
        return lock

    def _release_lock(self, store_key: StoreKey) -> None:
        lock, users = self._locks[store_key]
        if users <= 1:
            del self._locks[store_key]  # no one else waits: keep the lock map bounded too
        else:
            self._locks[store_key] = (lock, users - 1)

    def _get(self, store_key: StoreKey) -> _Entry[T] | None:
        entry = self._entries.get(store_key)
        if entry is None:
            return None
        if self.clock() - entry.stored_at >= self.ttl:
            del self._entries[store_key]
            return None
        self._entries.move_to_end(store_key)
        return entry

    def _put(self, store_key: StoreKey, entry: _Entry[T]) -> None:
        self._entries[store_key] = entry
        self._entries.move_to_end(store_key)
        self._expire()

    def _expire(self) -> None:
        """Drop expired entries from the least recently used end, then any over the bound."""
        now = self.clock()
        while self._entries:
            oldest = next(iter(self._entries.values()))
            if now - oldest.stored_at < self.ttl:
                break
            self._entries.popitem(last=False)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
