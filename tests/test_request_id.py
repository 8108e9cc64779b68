"""X-Request-Id: taken from the caller when safe, made otherwise, on every response."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import cast

import httpx
import pytest
from asgi_lifespan import LifespanManager
from structlog.contextvars import bind_contextvars, unbind_contextvars

from gateway.config import Settings, sandbox_settings
from gateway.providers.contract import ProviderAdapter
from gateway.request_id import MAX_LENGTH, accepted, current_request_id
from gateway.sandbox.dataset import Dataset
from gateway.server import create_app
from tests.conftest import GatewayHarness, JsonLogs, gateway_harness

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize(
    "value", ["abc", "0f8c2a1e-6b1d-4c55-9d4e-2f1b3c4d5e6f", "a" * MAX_LENGTH, "span=1; trace=2"]
)
def test_printable_ascii_ids_up_to_128_characters_are_accepted(value: str) -> None:
    assert accepted(value) == value


@pytest.mark.parametrize(
    "value", [None, "", "a" * (MAX_LENGTH + 1), "caf\u00e9", "tab\there", "line\nbreak", "\x7f"]
)
def test_other_ids_are_not(value: str | None) -> None:
    assert accepted(value) is None


async def test_the_callers_id_is_echoed(gateway: GatewayHarness) -> None:
    response = await gateway.client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"X-Request-Id": "from-caller-1"}
    )

    assert response.headers["x-request-id"] == "from-caller-1"


async def test_without_one_each_request_gets_a_new_id(gateway: GatewayHarness) -> None:
    first, second = [
        await gateway.client.post("/graphql", json={"query": "{ __typename }"}) for _ in range(2)
    ]

    assert GENERATED.fullmatch(first.headers["x-request-id"])
    assert GENERATED.fullmatch(second.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize("sent", ["a" * (MAX_LENGTH + 1), "caf\u00e9"])
async def test_an_unsafe_id_is_replaced_not_refused(gateway: GatewayHarness, sent: str) -> None:
    response = await gateway.client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers=[(b"X-Request-Id", sent.encode("utf-8"))],
    )

    assert response.status_code == 200
    assert GENERATED.fullmatch(response.headers["x-request-id"])


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/healthz", None, 200),
        ("GET", "/", None, 307),
        ("GET", "/nowhere", None, 404),
        ("POST", "/graphql", b"{not json", 400),
        ("POST", "/graphql", b'{"query": "{ nope }"}', 200),
        ("DELETE", "/graphql", None, 405),
    ],
)
async def test_every_response_carries_the_id(
    gateway: GatewayHarness, method: str, path: str, body: bytes | None, status: int
) -> None:
    response = await gateway.client.request(
        method,
        path,
        content=body,
        headers={"X-Request-Id": "every-1", "content-type": "application/json"},
    )

    assert response.status_code == status
    assert response.headers["x-request-id"] == "every-1"


class BrokenAdapter:
    """An adapter whose HTTP client cannot even be looked at: /healthz fails unexpectedly."""

    @property
    def http(self) -> object:
        raise RuntimeError("broken on purpose")

    async def aclose(self) -> None:
        pass


@pytest.fixture
async def broken_app() -> AsyncIterator[httpx.AsyncClient]:
    adapters = {"broken": cast(ProviderAdapter, BrokenAdapter())}
    app = create_app(Settings(providers=sandbox_settings()), adapters=adapters)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client,
    ):
        yield client


async def test_an_unhandled_error_is_a_500_with_the_id_logged_with_its_traceback(
    broken_app: httpx.AsyncClient, json_logs: JsonLogs
) -> None:
    response = await broken_app.get("/healthz", headers={"X-Request-Id": "boom-1"})

    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert response.headers["x-request-id"] == "boom-1"
    [line] = json_logs.lines("customer_gateway.server")
    assert line["request_id"] == "boom-1"
    assert line["level"] == "error"
    assert line["message"] == "unhandled error in GET /healthz"
    assert "RuntimeError: broken on purpose" in line["exception"]


async def test_browsers_may_send_the_id_and_read_it_back(small_dataset: Dataset) -> None:
    origin = "https://app.example.com"
    settings = Settings(providers=sandbox_settings(), cors_origins=(origin,))
    async with gateway_harness(small_dataset, settings) as gateway:
        preflight = await gateway.client.options(
            "/graphql",
            headers={
                "origin": origin,
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type, x-request-id",
            },
        )
        response = await gateway.client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"origin": origin}
        )

    assert preflight.status_code == 200
    assert "x-request-id" in preflight.headers["access-control-allow-headers"]
    assert GENERATED.fullmatch(preflight.headers["x-request-id"])
    assert response.headers["access-control-expose-headers"] == "X-Request-Id"


async def test_the_id_is_bound_only_while_its_request_runs(broken_app: httpx.AsyncClient) -> None:
    # The ASGI transport runs the app in this task: what the middleware binds, it must reset.
    bind_contextvars(request_id="outer")
    try:
        await broken_app.get("/healthz", headers={"X-Request-Id": "inner-1"})  # raises inside
        assert current_request_id() == "outer"
        await broken_app.get("/nowhere", headers={"X-Request-Id": "inner-2"})
        assert current_request_id() == "outer"
    finally:
        unbind_contextvars("request_id")
    assert current_request_id() is None
