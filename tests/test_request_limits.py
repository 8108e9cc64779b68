"""Limits that keep one request from hurting the others (gateway/request_guard.py and
ProviderHTTP): body size, the request deadline, a client hanging up, a provider's cool-down.

Upstream calls are read from the simulators' own request logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gateway.config import Settings, sandbox_settings, tune
from gateway.request_guard import Refused, RequestGuard, RequestLimits
from gateway.sandbox.base import simulator_state
from gateway.sandbox.dataset import SHOWCASE_EMAIL, Dataset
from gateway.sandbox.faults import Faults
from gateway.sandbox.runner import LoopbackServer
from gateway.server import create_app
from tests.conftest import GatewayHarness, build_simulators, eventually, gateway_harness

QUERY = """query($e: String!) { customerByEmail(email: $e) {
  name stripe { id } lago { externalId }
} }"""
CREATE = """mutation($input: CustomerInput!, $providers: [Provider!]) {
  createCustomer(input: $input, providers: $providers) { outcomes { provider status } }
}"""


def limited(**gateway: Any) -> Settings:
    return Settings(providers=sandbox_settings(), **gateway)


# -- request size ----------------------------------------------------------------------------


async def test_a_10_mb_email_literal_is_refused_unread(gateway: GatewayHarness) -> None:
    literal = "a" * 10_000_000 + "@example.com"
    response = await gateway.client.post(
        "/graphql", json={"query": f'{{ customerByEmail(email: "{literal}") {{ id }} }}'}
    )

    assert response.status_code == 413
    assert response.json() == {  # never ran, so no data entry
        "errors": [
            {
                "message": "the request body is larger than the 1048576 bytes allowed",
                "extensions": {"code": "REQUEST_TOO_LARGE"},
            }
        ],
    }
    assert len(response.content) < 1000  # nothing of the literal echoed
    assert gateway.calls() == []


async def test_a_body_without_a_length_is_counted_while_it_arrives(small_dataset: Dataset) -> None:
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):  # 100 x 1 KiB against a 4 KiB limit
            sent.append(1)
            yield b" " * 1024

    async with gateway_harness(small_dataset, limited(max_body_bytes=4096)) as gateway:
        response = await gateway.client.post(
            "/graphql", content=chunks(), headers={"content-type": "application/json"}
        )
        assert "content-length" not in response.request.headers
        assert response.status_code == 413
        assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"
        assert gateway.calls() == []
    assert len(sent) <= 6  # reading stopped at the limit


async def test_a_body_at_the_limit_runs(small_dataset: Dataset) -> None:
    payload = json.dumps({"query": QUERY, "variables": {"e": SHOWCASE_EMAIL}}).encode()
    async with gateway_harness(small_dataset, limited(max_body_bytes=len(payload))) as gateway:
        response = await gateway.client.post(
            "/graphql", content=payload, headers={"content-type": "application/json"}
        )
        assert response.status_code == 200 and "errors" not in response.json()
        too_long = await gateway.client.post(
            "/graphql", content=payload + b" ", headers={"content-type": "application/json"}
        )
        assert too_long.status_code == 413


async def test_a_long_get_query_string_is_refused(small_dataset: Dataset) -> None:
    async with gateway_harness(small_dataset, limited(max_body_bytes=2048)) as gateway:
        short = await gateway.client.get("/graphql", params={"query": "{ __typename }"})
        assert short.status_code == 200
        long = await gateway.client.get("/graphql", params={"query": "{ __typename }" + " " * 3000})
        assert long.status_code == 414
        assert long.json()["errors"] == [
            {
                "message": "the query string is longer than the 2048 bytes allowed",
                "extensions": {"code": "REQUEST_TOO_LARGE"},
            }
        ]


# -- the request deadline --------------------------------------------------------------------


async def test_the_request_deadline_ends_every_upstream_call(small_dataset: Dataset) -> None:
    # Lago's own deadline (20 s, three attempts) would hold the request far longer.
    async with gateway_harness(small_dataset, limited(request_deadline=0.3)) as gateway:
        gateway.set_faults("lago", Faults(latency_ms=5000))
        body = await gateway.query(QUERY, {"e": SHOWCASE_EMAIL})
        lago_calls = gateway.calls("lago")

    customer = body["data"]["customerByEmail"]
    assert customer["name"] == "Ada Lovelace"  # what the first round found still answers
    assert customer["lago"] is None
    messages = {e["extensions"]["provider"]: e["message"] for e in body["errors"]}
    assert {e["extensions"]["code"] for e in body["errors"]} == {"PROVIDER_TIMEOUT"}
    assert messages.pop("lago") == (
        "lago is degraded (timeout): no answer to GET /api/v1/customers "
        "within the request's 0.3s deadline"
    )
    # The next round of lookups found no time left: nothing sent, each provider named.
    assert messages == {
        name: f"{name} is degraded (timeout): the request's 0.3s deadline passed before sending"
        for name in messages
    }
    assert [c.status for c in lago_calls] == [500]  # one attempt, cut short, never retried


SCOPE: Scope = {"type": "http", "method": "POST", "headers": [], "query_string": b""}


def body_then_silence() -> Receive:
    """An ASGI receive channel with a small body and a client that never hangs up."""
    messages = iter([{"type": "http.request", "body": b"{}", "more_body": False}])

    async def receive() -> dict[str, Any]:
        try:
            return next(messages)
        except StopIteration:
            await asyncio.Event().wait()
            raise

    return receive


async def test_work_still_running_past_the_deadline_is_cancelled_with_a_504() -> None:
    """The backstop for work the upstream deadlines cannot stop."""
    stopped = asyncio.Event()

    async def stuck() -> Response:
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()
        raise AssertionError("unreachable")

    guard = RequestGuard(SCOPE, body_then_silence(), RequestLimits(deadline=0.05, grace=0.05))
    with pytest.raises(Refused) as info:
        await guard.run(stuck)
    assert (info.value.code.value, info.value.status) == ("REQUEST_TIMEOUT", 504)
    assert stopped.is_set()


async def test_the_works_own_timeout_error_is_not_taken_for_the_deadline() -> None:
    """The work runs in the request's task under the deadline's ``asyncio.timeout``: a
    ``TimeoutError`` of its own goes through as raised, not as a 504."""

    async def times_out() -> Response:
        raise TimeoutError("the work's own")

    guard = RequestGuard(SCOPE, body_then_silence(), RequestLimits(deadline=5))
    with pytest.raises(TimeoutError, match="the work's own"):
        await guard.run(times_out)
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0


async def test_work_that_swallows_the_hang_up_leaves_the_request_task_uncancelled() -> None:
    """The watch cancels the request's own task; if the work catches that and answers anyway,
    the task must not stay marked as being cancelled (later awaits would misread it)."""
    hung_up = asyncio.Event()
    messages = iter([{"type": "http.request", "body": b"{}", "more_body": False}])

    async def receive() -> dict[str, Any]:
        try:
            return next(messages)
        except StopIteration:
            await hung_up.wait()
            return {"type": "http.disconnect"}

    async def stubborn() -> Response:
        hung_up.set()
        with contextlib.suppress(asyncio.CancelledError):  # what a careless library might do
            await asyncio.Event().wait()
        return Response("answered anyway")

    response = await RequestGuard(SCOPE, receive, RequestLimits(deadline=5)).run(stubborn)
    assert response.body == b"answered anyway"
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0


# -- a provider that keeps rate-limiting -----------------------------------------------------


async def test_a_rate_limiting_provider_fails_fast_for_the_next_request(
    gateway: GatewayHarness,
) -> None:
    gateway.set_faults("lago", Faults(rate_limit_rate=1.0, retry_after=30))
    first = await gateway.query(QUERY, {"e": SHOWCASE_EMAIL})
    assert [c.status for c in gateway.calls("lago")] == [429]  # 30 s will not fit: no retry
    assert {e["extensions"]["code"] for e in first["errors"]} == {"PROVIDER_RATE_LIMITED"}
    gateway.reset_calls()

    second = await gateway.query(QUERY, {"e": SHOWCASE_EMAIL})

    assert gateway.calls("lago") == []  # nothing sent during the cool-down
    assert gateway.calls("stripe")  # the others are asked as usual
    assert second["data"]["customerByEmail"]["stripe"]
    [error] = second["errors"]
    assert error["extensions"]["code"] == "PROVIDER_RATE_LIMITED"
    assert "cool-down" in error["message"]
    [degraded] = second["extensions"]["degradedProviders"]
    assert (degraded["provider"], degraded["code"]) == ("lago", "PROVIDER_RATE_LIMITED")


# -- a client that hangs up (a real socket: only a server sees the connection close) ---------


@dataclass
class Recorder:
    """Wraps a simulator: which upstream requests it is working on, and when each began."""

    app: Starlette
    started: list[tuple[str, float]] = field(default_factory=list)
    in_flight: int = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.started.append((scope["method"], time.monotonic()))
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


@dataclass
class LoopbackGateway:
    url: str
    recorders: dict[str, Recorder]

    def in_flight(self) -> int:
        return sum(r.in_flight for r in self.recorders.values())

    def set_faults(self, faults: Faults) -> None:
        for recorder in self.recorders.values():
            simulator_state(recorder.app).set_faults(replace(faults))

    def logs(self) -> dict[str, list[int]]:
        return {
            name: [e.status for e in simulator_state(r.app).log]
            for name, r in self.recorders.items()
        }

    async def hang_up_during(self, query: str, variables: dict[str, Any], ready: Any) -> float:
        """Send the request on a raw connection, close it once ``ready()``; when it closed."""
        host, port = self.url.removeprefix("http://").split(":")
        body = json.dumps({"query": query, "variables": variables}).encode()
        _, writer = await asyncio.open_connection(host, int(port))
        head = (
            f"POST /graphql HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()
        await eventually(ready)
        hung_up = time.monotonic()
        writer.close()
        await writer.wait_closed()
        return hung_up


@asynccontextmanager
async def loopback_gateway(dataset: Dataset) -> AsyncIterator[LoopbackGateway]:
    simulators = build_simulators(dataset)
    recorders = {name: Recorder(app) for name, app in simulators.items()}
    providers = {
        name: tune(p, backoff_base=0.001, backoff_max=0.005)
        for name, p in sandbox_settings().items()
    }
    app = create_app(
        Settings(providers=providers),
        transports={n: httpx.ASGITransport(app=r) for n, r in recorders.items()},
    )
    async with LoopbackServer(app) as server:
        yield LoopbackGateway(server.url, recorders)


def disconnects(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().startswith("client disconnected")]


def access_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "customer_gateway.access"]


async def test_a_client_hanging_up_cancels_its_upstream_calls(
    small_dataset: Dataset, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with loopback_gateway(small_dataset) as gateway:
        gateway.set_faults(Faults(latency_ms=5000))
        hung_up = await gateway.hang_up_during(
            QUERY, {"e": SHOWCASE_EMAIL}, lambda: gateway.in_flight() > 0
        )
        await eventually(lambda: bool(disconnects(caplog)))
        # Cut short at once: an orphan would hold its 5 s answer well past this bound.
        await eventually(lambda: gateway.in_flight() == 0, within=1.0)
        started = [at for r in gateway.recorders.values() for _, at in r.started]
        logs = gateway.logs()

    assert started and all(at < hung_up for at in started)  # nothing started afterwards
    statuses = [status for entries in logs.values() for status in entries]
    assert len(statuses) == len(started) and set(statuses) == {500}  # none ever answered
    [line] = disconnects(caplog)
    assert line.levelno == logging.INFO and line.exc_info is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    [access] = access_lines(caplog)
    assert access.__dict__["status"] == 499


async def test_a_write_already_sent_finishes_after_the_client_hangs_up(
    small_dataset: Dataset, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    variables = {
        "input": {"email": "late@example.com", "name": "Late Co", "externalId": "co_late"},
        "providers": ["LAGO"],
    }
    async with loopback_gateway(small_dataset) as gateway:
        lago = gateway.recorders["lago"]
        gateway.set_faults(Faults(latency_ms=300))
        await gateway.hang_up_during(
            CREATE, variables, lambda: any(method == "POST" for method, _ in lago.started)
        )
        log = simulator_state(lago.app).log
        await eventually(lambda: any(e.method == "POST" for e in log))
        await eventually(lambda: bool(access_lines(caplog)))

    assert [e.status for e in log if e.method == "POST"] == [200]  # applied, not cut halfway
    [access] = access_lines(caplog)
    assert access.__dict__["status"] == 200  # answered, though nobody was left to read it
    messages = [r.getMessage() for r in caplog.records if r.name == "customer_gateway.limits"]
    assert messages[0] == "client disconnected during a write; letting the write finish"
