"""Circuit breaker, client-side rate limiter and backoff, one set per provider."""

from __future__ import annotations

import asyncio
import enum
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

_MAX_BACKOFF_EXPONENT = 62
"""Keeps ``base * 2**attempt`` a finite float for any attempt number."""
_TOKEN_EPSILON = 1e-9
"""Float slack: a refill that lands a hair under one token counts as one, or a waiter whose
wait rounds to nothing on the clock would spin forever."""


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class Permit:
    """What :meth:`CircuitBreaker.acquire` hands out; ``probe`` numbers a half-open probe.

    Passing it back to the ``record_*``/``release_probe`` methods lets the breaker tell the
    probe's verdict from a straggler started before the circuit opened, so a straggler never
    frees the probe slot and lets a second concurrent probe through.
    """

    probe: int | None = None

    @property
    def is_probe(self) -> bool:
        return self.probe is not None


class CircuitBreaker:
    """Fails fast while a provider is down, then lets one probe through to test recovery.

    Opens after ``threshold`` consecutive failures (``threshold <= 0`` never opens); after
    ``reset_timeout`` seconds (or the ``open_for`` the failure that opened it gave, e.g. a
    provider's ``Retry-After``) one caller is admitted (half-open). Its success closes the
    circuit, its failure re-opens it. A probe that ends without a verdict must call
    :meth:`release_probe` so the next caller can probe.
    """

    def __init__(
        self,
        threshold: int,
        reset_timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.reset_timeout = reset_timeout
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._open_for = reset_timeout
        self._probe: int | None = None
        self._probe_seq = 0

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self._open_for:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    @property
    def failures(self) -> int:
        """Consecutive failures seen since the last success."""
        return self._failures

    @property
    def probing(self) -> bool:
        """Whether a half-open probe is out and has not reported yet."""
        return self._probe is not None

    def retry_in(self) -> float:
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._open_for - (self._clock() - self._opened_at))

    def acquire(self) -> Permit | None:
        """A permit to send now, or ``None`` to fail fast; half-open admits one probe at a time."""
        state = self.state
        if state is BreakerState.CLOSED:
            return Permit()
        if state is BreakerState.HALF_OPEN and self._probe is None:
            self._probe_seq += 1
            self._probe = self._probe_seq
            return Permit(self._probe)
        return None

    def allow(self) -> bool:
        """Whether a call may go out now; in half-open state only one probe at a time."""
        return self.acquire() is not None

    def record_success(self, permit: Permit | None = None) -> None:
        """The provider answered: close the circuit (any outstanding probe is moot)."""
        self._failures = 0
        self._opened_at = None
        self._probe = None

    def record_failure(
        self, permit: Permit | None = None, *, open_for: float | None = None
    ) -> None:
        """The provider failed: count it, and (re-)open once the threshold is reached, for
        ``open_for`` seconds when given (a rate limit's ``Retry-After``), else ``reset_timeout``.

        Without a permit the caller is taken to be the probe, as before permits existed.
        """
        self._end_probe(permit)
        self._failures += 1
        if self.threshold <= 0:
            return
        if self._opened_at is not None or self._failures >= self.threshold:
            self._opened_at = self._clock()
            self._open_for = self.reset_timeout if open_for is None else open_for

    def release_probe(self, permit: Permit | None = None) -> None:
        """A probe that ended without a verdict (cancelled, timed out locally) frees its slot."""
        self._end_probe(permit)

    def _end_probe(self, permit: Permit | None) -> None:
        if permit is None or (permit.probe is not None and permit.probe == self._probe):
            self._probe = None


Sleep = Callable[[float], Awaitable[None]]


class Limiter(Protocol):
    """A client-side rate limit: :class:`RateLimiter`, or one shared by the replicas
    (:class:`gateway.shared.rate_limit.SharedRateLimiter`)."""

    async def acquire(self) -> float: ...


class SharedCircuit(Protocol):
    """Openings and cool-downs shared with the other replicas
    (:class:`gateway.shared.circuits.ProviderCircuit`)."""

    def refusal(self) -> tuple[float, str] | None:
        """Seconds left of one another replica announced, and its error kind's value."""
        ...

    async def announce(self, seconds: float, kind: str) -> None:
        """Tell the others not to call for ``seconds`` (0: they may again)."""
        ...


class RateLimiter:
    """Token bucket: ``rate`` requests/second with bursts of up to ``burst``; rate 0 is off.

    ``clock`` and ``sleep`` are injectable so tests can drive the bucket without waiting.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(self.burst)
        self._updated = clock()
        self._lock = asyncio.Lock()

    @property
    def tokens(self) -> float:
        """Tokens available now (refilled up to ``burst``)."""
        self._refill()
        return self._tokens

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
        self._updated = now

    def try_acquire(self, tokens: float = 1) -> float:
        """Take ``tokens`` if they are there: returns 0, else the seconds until they will be
        (never, for more than ``burst``: the caller must not ask for that)."""
        if self.rate <= 0:
            return 0.0
        self._refill()
        if self._tokens >= tokens - _TOKEN_EPSILON:
            self._tokens = max(0.0, self._tokens - tokens)
            return 0.0
        return (tokens - self._tokens) / self.rate

    async def acquire(self) -> float:
        """Wait for a token; waiters are served in arrival order. Returns the seconds waited,
        in line or for the bucket to refill (0 when a token was there)."""
        if self.rate <= 0:
            return 0.0
        started = self._clock()
        waited = self._lock.locked()
        async with self._lock:
            while (wait := self.try_acquire()) > 0:
                waited = True
                await self._sleep(wait)
        return self._clock() - started if waited else 0.0


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
    ceiling = max(0.0, min(cap, base * (2 ** min(max(attempt, 0), _MAX_BACKOFF_EXPONENT))))
    return (rng or random).uniform(0, ceiling)
