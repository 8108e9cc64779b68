"""ProviderHTTP's limits on one logical call: one breaker verdict per call, a gateway-wide
cool-down after a 429, a whole answer within connect + read timeouts, and the request's
deadline and lifetime (gateway/request_scope.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from httpx_aiohttp import AiohttpTransport
from starlette.types import ASGIApp

from gateway.errors import ErrorKind, ProviderError
from gateway.providers.health import ProviderHealth
from gateway.providers.resilience import BreakerState, CircuitBreaker
from gateway.request_scope import current_scope, request_scope
from tests.conftest import eventually
from tests.providers.test_http import log_of, make_http, make_sim, set_faults
from tests.providers.test_resilience import FakeClock, state

# -- the breaker hears each logical call once ------------------------------------------------


async def test_the_breaker_counts_a_failed_call_once_whatever_its_attempts() -> None:
    app, _ = make_sim()
    http = make_http(app, breaker_threshold=3, max_retries=2)
    set_faults(app, outage=True)
    for calls in (1, 2):
        with pytest.raises(ProviderError):
            await http.request("GET", "/v1/items/it_1")
        assert len(log_of(app)) == 3 * calls  # three attempts each
        assert http.breaker.failures == calls  # but one failure each
        assert state(http.breaker) is BreakerState.CLOSED
    with pytest.raises(ProviderError):
        await http.request("GET", "/v1/items/it_1")
    assert http.breaker.failures == 3 and state(http.breaker) is BreakerState.OPEN
    await http.aclose()


async def test_a_call_that_recovers_on_a_retry_is_a_success() -> None:
    app, _ = make_sim()
    http = make_http(app, breaker_threshold=3, max_retries=2)
    set_faults(app, outage=True)
    with pytest.raises(ProviderError):
        await http.request("GET", "/v1/items/it_1")
    assert http.breaker.failures == 1
    set_faults(app, next_statuses=[503, 503])
    assert await http.request("GET", "/v1/items/it_1") == {"id": "it_1", "object": "item"}
    assert [e.status for e in log_of(app)][-3:] == [503, 503, 200]
    assert http.breaker.failures == 0
    await http.aclose()


# -- 429: a cool-down for everyone, and a failure for the breaker ------------------------------


async def test_a_429_cools_the_provider_down_for_every_caller() -> None:
    app, _ = make_sim()
    clock = FakeClock()
    http = make_http(app, breaker_threshold=5, max_retries=2)
    http.health = ProviderHealth(clock=clock)
    set_faults(app, rate_limit_rate=1.0, retry_after=30)

    with pytest.raises(ProviderError) as first:
        await http.request("GET", "/v1/items/it_1")
    assert (first.value.kind, first.value.status) == (ErrorKind.RATE_LIMITED, 429)
    assert len(log_of(app)) == 1  # a 30 s wait does not fit the 5 s deadline: no retry

    for path in ("/v1/items/it_1", "/v1/items/it_2"):
        with pytest.raises(ProviderError) as cooling:
            await http.request("GET", path)
        assert (cooling.value.kind, cooling.value.code) == (ErrorKind.RATE_LIMITED, "cooling_down")
        assert cooling.value.retry_after == 30.0
        assert "cool-down" in cooling.value.message
    assert len(log_of(app)) == 1  # failing fast sends nothing
    assert http.breaker.failures == 1  # the 429 counted; the refusals did not

    clock.advance(30)
    set_faults(app)
    assert await http.request("GET", "/v1/items/it_1") == {"id": "it_1", "object": "item"}
    assert len(log_of(app)) == 2 and http.breaker.failures == 0
    await http.aclose()


async def test_repeated_429s_open_the_circuit_for_the_retry_after() -> None:
    app, _ = make_sim()
    clock = FakeClock()
    http = make_http(app, breaker_threshold=2, breaker_reset=15.0, max_retries=0)
    http.health = ProviderHealth(clock=clock)
    http.breaker = CircuitBreaker(2, 15.0, clock=clock)
    set_faults(app, rate_limit_rate=1.0, retry_after=40)

    for _ in range(2):
        with pytest.raises(ProviderError) as info:
            await http.request("GET", "/v1/items/it_1")
        assert info.value.status == 429
        assert http.health.cooldown() == 40.0
        if state(http.breaker) is BreakerState.CLOSED:
            clock.advance(40)  # past the cool-down: the next call is sent
    assert len(log_of(app)) == 2
    assert state(http.breaker) is BreakerState.OPEN
    assert http.breaker.retry_in() == 40.0  # the provider's Retry-After, not breaker_reset

    clock.advance(40)  # half-open: one probe goes out, the others fail fast as rate limited
    set_faults(app, latency_ms=100)
    probe = asyncio.create_task(http.request("GET", "/v1/items/probe"))
    await eventually(lambda: http.breaker.probing)
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/items/other")
    assert (info.value.kind, info.value.code) == (ErrorKind.RATE_LIMITED, "circuit_open")
    assert info.value.message.startswith("circuit open after repeated rate limiting")
    assert await probe == {"id": "probe", "object": "item"}
    assert state(http.breaker) is BreakerState.CLOSED
    assert [e.path for e in log_of(app)][2:] == ["/v1/items/probe"]
    await http.aclose()


# -- a whole answer within connect + read timeouts (live server: ASGITransport ignores them) ---


async def test_a_trickling_body_ends_at_the_read_timeout(
    live_server: Callable[[ASGIApp], str],
) -> None:
    app, _ = make_sim()
    # Four pieces 0.5 s apart: each read is within the 1 s read timeout, the whole is not.
    set_faults(app, slow_body_ms=2000)
    http = make_http(
        base_url=live_server(app),
        transport=AiohttpTransport(),
        read_timeout=1.0,
        connect_timeout=0.2,
        max_retries=0,
        deadline=10.0,
    )
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/items/it_1")
    await http.aclose()
    assert info.value.kind is ErrorKind.TIMEOUT
    assert info.value.message == (
        "no complete answer to GET /v1/items/it_1 within 1.2s (connect + read timeout)"
    )
    assert http.breaker.failures == 1


async def test_a_deadline_before_the_answer_is_due_ends_the_call_as_the_deadline() -> None:
    """The call's own deadline (0.3 s) comes before connect + read (1.2 s): the one timer
    fires at the deadline, and the provider gets the blame, as no request cut it short."""
    app, _ = make_sim()
    set_faults(app, latency_ms=5000)
    http = make_http(app, read_timeout=1.0, connect_timeout=0.2, max_retries=0, deadline=0.3)
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/items/it_1")
    await http.aclose()
    assert info.value.kind is ErrorKind.TIMEOUT
    assert info.value.message == "no answer to GET /v1/items/it_1 within the 0.3s deadline"
    assert http.breaker.failures == 1


# -- the request's deadline and lifetime -----------------------------------------------------


async def test_a_call_ends_by_its_requests_deadline_without_a_verdict() -> None:
    app, _ = make_sim()
    set_faults(app, latency_ms=5000)
    http = make_http(app, deadline=20.0, max_retries=3)
    with request_scope(0.2), pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/items/it_1")
    assert info.value.kind is ErrorKind.TIMEOUT
    assert (
        info.value.message == "no answer to GET /v1/items/it_1 within the request's 0.2s deadline"
    )
    assert len(log_of(app)) == 1  # cut once, never retried past the request's deadline
    assert http.breaker.failures == 0  # the request ran out of time, not the provider
    await http.aclose()


async def test_ending_the_request_cancels_its_calls_and_refuses_new_ones() -> None:
    app, _ = make_sim()
    set_faults(app, latency_ms=5000)
    http = make_http(app)
    with request_scope(30.0) as scope:
        # Started like a dataloader batch: its own task, inheriting the request's scope.
        batch = asyncio.create_task(http.request("GET", "/v1/items/it_1"))
        await eventually(lambda: scope.in_flight() > 0)
        assert current_scope() is scope
    assert scope.ended
    with pytest.raises(asyncio.CancelledError):
        await batch
    assert [e.status for e in log_of(app)] == [500]  # logged by the simulator as cut short
    assert scope.in_flight() == 0 and not http.breaker.probing

    set_faults(app)
    with request_scope(30.0) as scope:
        scope.end()
        with pytest.raises(ProviderError) as info:
            await http.request("GET", "/v1/items/it_2")
    assert info.value.message == "GET /v1/items/it_2 not sent: its request has ended"
    assert len(log_of(app)) == 1
    await http.aclose()
