"""Per-key inbound limits: a request rate (429 + Retry-After) and a per-minute budget of
estimated upstream calls (QUERY_BUDGET_EXHAUSTED), each key with its own buckets."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gateway.auth import limits
from gateway.auth.limits import KeyedBuckets, PerKeyLimits
from gateway.config import AuthSettings
from gateway.config.settings import InboundLimits
from gateway.providers.resilience import RateLimiter
from gateway.sandbox.dataset import Dataset
from tests.auth.conftest import SHOWCASE, Keys, post, secured
from tests.auth.test_api_keys import only_error


def limited(keys: Keys, **limits: float) -> AuthSettings:
    auth = AuthSettings(api_keys=keys.configured)
    return replace(auth, rate_limit=replace(auth.rate_limit, **limits))


async def test_a_key_over_its_rate_gets_429_with_retry_after(
    small_dataset: Dataset, keys: Keys
) -> None:
    auth = limited(keys, rate=0.01, burst=2, cost_per_minute=0)
    async with secured(small_dataset, auth) as gateway:
        admitted = [await post(gateway, SHOWCASE, keys.header("reader")) for _ in range(2)]
        gateway.reset_calls()
        refused = await post(gateway, SHOWCASE, keys.header("reader"))
        calls = sum(gateway.call_counts().values())
        other_key = await post(gateway, SHOWCASE, keys.header("support"))

    assert [r.status_code for r in admitted] == [200, 200]
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "100"  # one token at 0.01 per second
    error = only_error(refused.json())
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 100}
    assert "reader" in error["message"] and "0.01 per second" in error["message"]
    assert calls == 0
    assert other_key.status_code == 200


async def test_a_key_over_its_cost_budget_is_refused_until_it_refills(
    small_dataset: Dataset, keys: Keys
) -> None:
    # One customer lookup on five providers with three hops is estimated at 15 calls.
    auth = limited(keys, rate=0, cost_per_minute=30)
    async with secured(small_dataset, auth) as gateway:
        admitted = [await post(gateway, SHOWCASE, keys.header("reader")) for _ in range(2)]
        gateway.reset_calls()
        refused = await post(gateway, SHOWCASE, keys.header("reader"))
        calls = sum(gateway.call_counts().values())
        other_key = await post(gateway, SHOWCASE, keys.header("support"))

    assert [r.status_code for r in admitted] == [200, 200]
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "30"  # 15 calls at 30 per minute
    error = only_error(refused.json())
    assert error["extensions"] == {
        "code": "QUERY_BUDGET_EXHAUSTED",
        "cost": 15,
        "budget": 30,
        "retryAfter": 30,
    }
    assert "budget of 30" in error["message"] and "refilled in 30 s" in error["message"]
    assert calls == 0
    assert other_key.status_code == 200


async def test_an_operation_larger_than_the_whole_budget_never_runs(
    small_dataset: Dataset, keys: Keys
) -> None:
    auth = limited(keys, rate=0, cost_per_minute=10)
    async with secured(small_dataset, auth) as gateway:
        refused = await post(gateway, SHOWCASE, keys.header("reader"))
        calls = sum(gateway.call_counts().values())

    assert refused.status_code == 429 and "retry-after" not in refused.headers
    error = only_error(refused.json())
    assert error["extensions"] == {"code": "QUERY_BUDGET_EXHAUSTED", "cost": 15, "budget": 10}
    assert "more than the whole budget of 10" in error["message"]
    assert calls == 0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_buckets_refill_per_key() -> None:
    clock = Clock()
    buckets = KeyedBuckets(rate=2, burst=1, clock=clock)

    assert buckets.take("a") == 0 and buckets.take("b") == 0
    assert buckets.take("a") == pytest.approx(0.5)
    clock.now = 0.5
    assert buckets.take("a") == 0


def test_idle_buckets_are_forgotten_but_busy_ones_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_TRACKED_KEYS", 3)
    buckets = KeyedBuckets(rate=1, burst=1, clock=Clock())
    buckets.take("busy")
    buckets._buckets["idle-1"] = RateLimiter(1, 1, clock=buckets._clock)
    buckets._buckets["idle-2"] = RateLimiter(1, 1, clock=buckets._clock)

    buckets.take("new")

    assert set(buckets._buckets) == {"busy", "new"}
    assert buckets.take("busy") > 0  # its empty bucket was not forgiven


def test_a_charge_takes_the_cost_from_the_minute_budget() -> None:
    clock = Clock()
    per_key = PerKeyLimits(InboundLimits(rate=0, burst=1, cost_per_minute=60), clock)

    assert per_key.charge("k", 50) == 0
    assert per_key.charge("k", 20) == pytest.approx(10)  # 10 more at one per second
    assert per_key.charge("k", 61) is None
    assert per_key.admit("k") == 0  # a rate of 0: requests unlimited


def test_the_rate_limiter_takes_several_tokens_at_once() -> None:
    clock = Clock()
    bucket = RateLimiter(rate=1, burst=10, clock=clock)

    assert bucket.try_acquire(8) == 0
    assert bucket.try_acquire(4) == pytest.approx(2)
    assert bucket.try_acquire() == 0
