"""Circuit breaker, token bucket and backoff: unit tests on a fake clock, then the breaker
wired into ProviderHTTP against the tiny simulator from test_http."""

from __future__ import annotations

import asyncio
import logging
import random

import httpx
import pytest

from gateway.config import RetryPolicy
from gateway.errors import ErrorKind, ProviderError
from gateway.providers.resilience import (
    BreakerState,
    CircuitBreaker,
    Permit,
    RateLimiter,
    backoff_delay,
)
from gateway.providers.upstream.retry import attempts, may_retry, retry_delay
from tests.providers.test_http import log_of, make_http, make_sim, set_faults


class FakeClock:
    """A monotonic clock the test moves by hand; ``sleep`` advances it instead of waiting."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def state(breaker: CircuitBreaker) -> BreakerState:
    """Read the state through a call, so type checkers do not narrow it between reads."""
    return breaker.state


# -- circuit breaker -------------------------------------------------------------------------


def test_breaker_opens_after_threshold_consecutive_failures() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(3, 10.0, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert state(breaker) is BreakerState.CLOSED and breaker.failures == 2
    breaker.record_success()  # a success in between resets the count
    for _ in range(2):
        breaker.record_failure()
    assert state(breaker) is BreakerState.CLOSED
    breaker.record_failure()
    assert state(breaker) is BreakerState.OPEN
    assert not breaker.allow()
    assert breaker.retry_in() == 10.0
    clock.advance(4)
    assert breaker.retry_in() == 6.0 and not breaker.allow()


def test_half_open_admits_one_probe_and_success_closes() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(1, 10.0, clock=clock)
    breaker.record_failure()
    clock.advance(10)
    assert state(breaker) is BreakerState.HALF_OPEN
    probe = breaker.acquire()
    assert probe is not None and probe.is_probe
    assert breaker.probing
    assert breaker.acquire() is None and not breaker.allow()  # only one probe at a time
    breaker.record_success(probe)
    assert state(breaker) is BreakerState.CLOSED and not breaker.probing
    assert breaker.acquire() == Permit()


def test_probe_failure_reopens_for_a_full_reset_period() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(2, 10.0, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    clock.advance(12)
    probe = breaker.acquire()
    assert probe is not None
    clock.advance(1)
    breaker.record_failure(probe)
    assert state(breaker) is BreakerState.OPEN
    assert breaker.retry_in() == 10.0
    clock.advance(10)
    second = breaker.acquire()
    assert second is not None and second.probe != probe.probe


def test_released_probe_lets_the_next_caller_probe() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(1, 5.0, clock=clock)
    breaker.record_failure()
    clock.advance(5)
    probe = breaker.acquire()
    assert probe is not None and breaker.acquire() is None
    breaker.release_probe(probe)
    assert state(breaker) is BreakerState.HALF_OPEN
    assert breaker.acquire() is not None


def test_straggler_failure_does_not_free_the_probe_slot() -> None:
    """A call admitted while closed that fails during the probe must not admit a second probe."""
    clock = FakeClock()
    breaker = CircuitBreaker(1, 5.0, clock=clock)
    straggler = breaker.acquire()
    assert straggler == Permit() and not straggler.is_probe
    breaker.record_failure()  # another call opened the circuit meanwhile
    clock.advance(5)
    probe = breaker.acquire()
    assert probe is not None
    breaker.record_failure(straggler)  # re-opens, but the probe is still out
    assert breaker.probing
    clock.advance(5)
    assert breaker.acquire() is None
    breaker.release_probe(straggler)  # a non-probe release is a no-op
    assert breaker.acquire() is None
    breaker.release_probe(probe)
    assert breaker.acquire() is not None


def test_stale_probe_release_does_not_free_a_newer_probe() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(1, 5.0, clock=clock)
    breaker.record_failure()
    clock.advance(5)
    old = breaker.acquire()
    assert old is not None
    breaker.record_failure(old)
    clock.advance(5)
    new = breaker.acquire()
    assert new is not None
    breaker.release_probe(old)
    assert breaker.probing and breaker.acquire() is None


def test_zero_threshold_never_opens() -> None:
    breaker = CircuitBreaker(0, 5.0, clock=FakeClock())
    for _ in range(50):
        breaker.record_failure()
    assert state(breaker) is BreakerState.CLOSED and breaker.allow()


def test_legacy_calls_without_permits_still_work() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(1, 5.0, clock=clock)
    breaker.record_failure()
    clock.advance(5)
    assert breaker.allow() and not breaker.allow()
    breaker.record_failure()  # no permit: taken to be the probe
    clock.advance(5)
    assert breaker.allow()
    breaker.release_probe()
    assert breaker.allow()


# -- rate limiter ----------------------------------------------------------------------------


async def test_token_bucket_bursts_then_paces() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, 3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        await limiter.acquire()
    assert clock.sleeps == [] and limiter.tokens == pytest.approx(0.0)
    await limiter.acquire()
    assert clock.sleeps == [pytest.approx(0.1)]
    await limiter.acquire()
    assert sum(clock.sleeps) == pytest.approx(0.2)


async def test_token_bucket_refills_up_to_burst_only() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2.0, 2, clock=clock, sleep=clock.sleep)
    assert limiter.try_acquire() == 0 and limiter.try_acquire() == 0
    assert limiter.try_acquire() == pytest.approx(0.5)
    clock.advance(0.25)
    assert limiter.try_acquire() == pytest.approx(0.25)
    clock.advance(3600)
    assert limiter.tokens == 2.0
    assert limiter.try_acquire() == 0 and limiter.try_acquire() == 0
    assert limiter.try_acquire() > 0


async def test_rate_zero_is_off() -> None:
    clock = FakeClock()
    limiter = RateLimiter(0.0, 1, clock=clock, sleep=clock.sleep)
    for _ in range(1000):
        await limiter.acquire()
    assert clock.sleeps == [] and limiter.try_acquire() == 0


async def test_concurrent_waiters_are_paced_in_order() -> None:
    clock = FakeClock()
    limiter = RateLimiter(100.0, 1, clock=clock, sleep=clock.sleep)
    order: list[int] = []

    async def take(n: int) -> None:
        await limiter.acquire()
        order.append(n)

    await asyncio.gather(*(take(n) for n in range(5)))
    assert order == [0, 1, 2, 3, 4]
    assert sum(clock.sleeps) == pytest.approx(0.04)


async def test_acquire_returns_the_seconds_waited() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, 1, clock=clock, sleep=clock.sleep)
    assert await limiter.acquire() == 0.0
    assert await limiter.acquire() == pytest.approx(0.1)
    assert await RateLimiter(0.0, 1, clock=clock, sleep=clock.sleep).acquire() == 0.0


async def test_real_clock_limiter_waits_a_few_ms() -> None:
    limiter = RateLimiter(200.0, 1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await limiter.acquire()
    await limiter.acquire()
    assert loop.time() - started >= 0.004


# -- backoff ---------------------------------------------------------------------------------


def test_backoff_is_full_jitter_below_the_capped_ceiling() -> None:
    rng = random.Random(3)
    for attempt in range(8):
        ceiling = min(1.0, 0.1 * 2**attempt)
        delays = [backoff_delay(attempt, 0.1, 1.0, rng) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8
    assert backoff_delay(5000, 0.5, 4.0, rng) <= 4.0  # no float overflow
    assert backoff_delay(2, 0.0, 4.0, rng) == 0.0
    same = [backoff_delay(1, 0.2, 5, random.Random(9)) for _ in range(2)]
    assert same[0] == same[1]


# -- retry policy ----------------------------------------------------------------------------


def test_retry_policy_decides_which_requests_retry_and_how_often() -> None:
    plain = httpx.Headers()
    keyed = httpx.Headers({"Idempotency-Key": "k"})
    assert may_retry("GET", plain, retry_writes=False)
    assert not may_retry("POST", plain, retry_writes=False)
    assert may_retry("POST", keyed, retry_writes=False)
    assert may_retry("DELETE", plain, retry_writes=True)
    policy = RetryPolicy(max_retries=2, backoff_base=0.0, backoff_max=0.0)
    assert (attempts(policy, True), attempts(policy, False)) == (3, 1)
    assert attempts(RetryPolicy(max_retries=0, backoff_base=0, backoff_max=0), True) == 1


def test_retry_policy_delay_honours_kind_attempts_retry_after_and_deadline() -> None:
    policy = RetryPolicy(max_retries=2, backoff_base=0.0, backoff_max=0.0)
    outage = ProviderError("p", ErrorKind.UNAVAILABLE, "down")
    limited = ProviderError("p", ErrorKind.RATE_LIMITED, "slow down", retry_after=3.0)
    refused = ProviderError("p", ErrorKind.BAD_REQUEST, "no")

    def delay(attempt: int, error: ProviderError, *, retryable: bool = True) -> float | None:
        return retry_delay(policy, attempt, error, retryable=retryable, now=100.0, deadline=104.0)

    assert delay(0, outage) == 0.0 and delay(1, outage) == 0.0
    assert delay(2, outage) is None  # the third attempt was the last
    assert delay(0, outage, retryable=False) is None
    assert delay(0, refused) is None
    assert delay(0, limited) == 3.0  # Retry-After outranks a shorter backoff
    late = ProviderError("p", ErrorKind.RATE_LIMITED, "later", retry_after=4.0)
    assert delay(0, late) is None  # the wait would end at the deadline
    jittered = RetryPolicy(max_retries=5, backoff_base=1.0, backoff_max=2.0)
    waits = [
        retry_delay(jittered, 3, outage, retryable=True, now=0.0, deadline=60.0) for _ in range(50)
    ]
    assert all(w is not None and 0 <= w <= 2.0 for w in waits)


# -- the breaker inside ProviderHTTP ---------------------------------------------------------


async def test_breaker_opens_fails_fast_then_probe_closes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="customer_gateway.providers")
    app, _ = make_sim()
    http = make_http(app, breaker_threshold=2, breaker_reset=0.05, max_retries=0)
    set_faults(app, outage=True)
    for _ in range(2):
        with pytest.raises(ProviderError) as info:
            await http.request("GET", "/v1/items/it_1")
        assert info.value.status == 503
    assert state(http.breaker) is BreakerState.OPEN
    assert [r.getMessage().split(";")[0] for r in caplog.records] == [
        "circuit opened for demo after 2 consecutive failures"
    ]
    for _ in range(3):
        with pytest.raises(ProviderError) as info:
            await http.request("GET", "/v1/items/it_1")
        assert (info.value.kind, info.value.code) == (ErrorKind.UNAVAILABLE, "circuit_open")
    assert len(log_of(app)) == 2  # failing fast sends nothing

    await asyncio.sleep(0.06)
    with pytest.raises(ProviderError) as info:  # the probe fails: open again
        await http.request("GET", "/v1/items/it_1")
    assert info.value.status == 503
    assert state(http.breaker) is BreakerState.OPEN
    assert len(log_of(app)) == 3

    set_faults(app)
    await asyncio.sleep(0.06)
    assert await http.request("GET", "/v1/items/it_1") == {"id": "it_1", "object": "item"}
    assert state(http.breaker) is BreakerState.CLOSED
    assert await http.request("GET", "/v1/items/it_2") == {"id": "it_2", "object": "item"}
    assert len(log_of(app)) == 5
    await http.aclose()


async def test_only_one_concurrent_probe_goes_out() -> None:
    app, _ = make_sim()
    http = make_http(app, breaker_threshold=1, breaker_reset=0.02, max_retries=0)
    set_faults(app, outage=True)
    with pytest.raises(ProviderError):
        await http.request("GET", "/v1/items/it_1")
    await asyncio.sleep(0.03)
    set_faults(app, latency_ms=50)
    probe = asyncio.create_task(http.request("GET", "/v1/items/probe"))
    await asyncio.sleep(0.01)
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/items/other")
    assert info.value.code == "circuit_open"
    assert await probe == {"id": "probe", "object": "item"}
    assert state(http.breaker) is BreakerState.CLOSED
    assert [entry.path for entry in log_of(app)] == ["/v1/items/it_1", "/v1/items/probe"]
    await http.aclose()


async def test_a_cancelled_probe_frees_the_slot() -> None:
    app, _ = make_sim()
    http = make_http(app, breaker_threshold=1, breaker_reset=0.02, max_retries=0)
    set_faults(app, outage=True)
    with pytest.raises(ProviderError):
        await http.request("GET", "/v1/items/it_1")
    await asyncio.sleep(0.03)
    set_faults(app, latency_ms=200)
    probe = asyncio.create_task(http.request("GET", "/v1/items/probe"))
    await asyncio.sleep(0.01)
    assert http.breaker.probing
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    assert not http.breaker.probing
    set_faults(app)
    assert await http.request("GET", "/v1/items/next") == {"id": "next", "object": "item"}
    assert state(http.breaker) is BreakerState.CLOSED
    await http.aclose()


async def test_client_errors_do_not_count_as_failures() -> None:
    app, _ = make_sim()
    http = make_http(app, breaker_threshold=2, max_retries=0)
    set_faults(app, next_statuses=[503])
    with pytest.raises(ProviderError):
        await http.request("GET", "/v1/items/it_1")
    for path in ("/v1/items/missing", "/v1/status/400", "/v1/status/422", "/v1/status/403"):
        with pytest.raises(ProviderError):
            await http.request("GET", path)
    assert state(http.breaker) is BreakerState.CLOSED and http.breaker.failures == 0
    set_faults(app, next_statuses=[503])
    with pytest.raises(ProviderError):
        await http.request("GET", "/v1/items/it_1")
    assert state(http.breaker) is BreakerState.CLOSED  # 4xx in between reset the count
    await http.aclose()


async def test_malformed_answers_count_toward_opening() -> None:
    app, _ = make_sim()
    http = make_http(app, breaker_threshold=2, breaker_reset=30.0, max_retries=0)
    set_faults(app, malformed_next=2)
    for _ in range(2):
        with pytest.raises(ProviderError) as info:
            await http.request("GET", "/v1/items/it_1")
        assert info.value.kind is ErrorKind.BAD_RESPONSE
    assert state(http.breaker) is BreakerState.OPEN
    await http.aclose()


class OthersOpenTheCircuit(httpx.AsyncBaseTransport):
    """Answers 503 while, meanwhile, other calls fail often enough to open the circuit."""

    def __init__(self) -> None:
        self.breaker: CircuitBreaker | None = None
        self.sends = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sends += 1
        assert self.breaker is not None
        for _ in range(self.breaker.threshold):
            self.breaker.record_failure(Permit())
        return httpx.Response(503)


async def test_retries_stop_once_the_breaker_opens() -> None:
    transport = OthersOpenTheCircuit()
    http = make_http(transport=transport, breaker_threshold=2, breaker_reset=30.0, max_retries=5)
    transport.breaker = http.breaker
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/items/it_1")
    assert info.value.code == "circuit_open"
    assert transport.sends == 1
    assert http.breaker.failures == 3  # the others' two, and this call's one verdict
    await http.aclose()
