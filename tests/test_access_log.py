"""The access log: one JSON line per GraphQL request, and the request id on every line it causes."""

from __future__ import annotations

import logging

import pytest

from gateway import graphql_view
from gateway.config import Settings, sandbox_settings, tune
from gateway.sandbox.dataset import SHOWCASE_EMAIL, Dataset
from gateway.sandbox.faults import Faults
from tests.conftest import GatewayHarness, JsonLogs, gateway_harness, without_stripe_search

ACCESS = "customer_gateway.access"
BY_EMAIL = """query CustomerByEmail($email: String!) {
  customerByEmail(email: $email) { name stripe { id } lago { externalId } tofupay { id } }
}"""


async def test_each_request_logs_who_what_and_its_upstream_cost(
    gateway: GatewayHarness, json_logs: JsonLogs
) -> None:
    gateway.set_faults("lago", Faults(outage=True))

    response = await gateway.client.post(
        "/graphql",
        json={"query": BY_EMAIL, "variables": {"email": SHOWCASE_EMAIL}},
        headers={"X-Request-Id": "access-1"},
    )

    assert response.status_code == 200
    [line] = json_logs.lines(ACCESS)
    # The logged counts are what the providers received, retries included (Lago: attempts
    # until its circuit opened), as the simulators' own request logs tell.
    received = {name: count for name, count in gateway.call_counts().items() if count}
    assert received["lago"] > 1
    assert line == {
        "timestamp": line["timestamp"],
        "level": "info",
        "logger": ACCESS,
        "message": "graphql request",
        "request_id": "access-1",
        "client": "127.0.0.1:123",  # httpx's ASGI transport's made-up peer
        "method": "POST",
        "path": "/graphql",
        "operation": "CustomerByEmail",
        "status": 200,
        "duration_ms": line["duration_ms"],
        "upstream_calls": sum(received.values()),
        "upstream_by_provider": received,
        "degraded": ["lago"],
        "key_id": None,
    }
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0


async def test_retries_and_the_opened_circuit_carry_the_requests_id(
    small_dataset: Dataset, json_logs: JsonLogs
) -> None:
    # The request makes two logical calls to lago, each one failure for the breaker.
    providers = sandbox_settings()
    providers["lago"] = tune(providers["lago"], breaker_threshold=2)
    async with gateway_harness(small_dataset, Settings(providers=providers)) as gateway:
        gateway.set_faults("lago", Faults(outage=True))
        await gateway.client.post(
            "/graphql",
            json={"query": BY_EMAIL, "variables": {"email": SHOWCASE_EMAIL}},
            headers={"X-Request-Id": "access-2"},
        )

    upstream = json_logs.lines("customer_gateway.providers")
    retries = [line for line in upstream if line["message"].startswith("retrying ")]
    [opened] = [line for line in upstream if line["message"].startswith("circuit opened")]
    assert retries and all(line["request_id"] == "access-2" for line in retries)
    assert opened["level"] == "warning" and opened["request_id"] == "access-2"
    assert {line["request_id"] for line in json_logs.lines()} == {"access-2"}


async def test_neither_the_query_nor_its_variables_are_logged(
    gateway: GatewayHarness, json_logs: JsonLogs
) -> None:
    gateway.set_faults("lago", Faults(outage=True))  # retries and a circuit: more lines

    await gateway.query(BY_EMAIL, {"email": SHOWCASE_EMAIL})

    logged = json_logs.stream.getvalue()
    assert "graphql request" in logged
    assert SHOWCASE_EMAIL not in logged and "customerByEmail" not in logged


async def test_the_operation_is_named_by_the_request_or_the_document(
    gateway: GatewayHarness, json_logs: JsonLogs
) -> None:
    two = "query First { __typename } query Second { __typename }"
    await gateway.client.post("/graphql", json={"query": two, "operationName": "Second"})
    await gateway.client.post("/graphql", json={"query": "query OnlyOne { __typename }"})
    await gateway.client.post("/graphql", json={"query": "{ __typename }"})
    await gateway.client.post("/graphql", json={"query": "{ nope"})  # never parsed

    operations = [line["operation"] for line in json_logs.lines(ACCESS)]
    assert operations == ["Second", "OnlyOne", "anonymous", "anonymous"]


async def test_a_provider_served_by_a_fallback_is_listed_as_degraded(
    small_dataset: Dataset, json_logs: JsonLogs
) -> None:
    """As in the response's ``extensions.degradedProviders``: Stripe answering emails through
    the list filter because customer search is missing."""

    async with gateway_harness(small_dataset) as gateway:
        without_stripe_search(gateway.simulators["stripe"])
        response = await gateway.client.post(
            "/graphql",
            json={"query": BY_EMAIL, "variables": {"email": SHOWCASE_EMAIL}},
            headers={"X-Request-Id": "fallback-1"},
        )

    [degraded] = response.json()["extensions"]["degradedProviders"]
    [line] = json_logs.lines(ACCESS)
    assert line["degraded"] == [degraded["provider"]] == ["stripe"]
    [warning] = json_logs.lines("customer_gateway.providers.stripe")
    assert warning["level"] == "warning" and warning["request_id"] == "fallback-1"


async def test_the_graphiql_page_is_not_an_operation(
    gateway: GatewayHarness, json_logs: JsonLogs
) -> None:
    response = await gateway.client.get("/graphql", headers={"accept": "text/html"})

    assert response.status_code == 200 and "graphiql" in response.text.lower()
    assert json_logs.lines(ACCESS) == []


async def test_above_info_no_line_is_built(
    gateway: GatewayHarness, json_logs: JsonLogs, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `serve --log-level warning`: the access line is neither logged nor put together.
    logging.getLogger(ACCESS).setLevel(logging.WARNING)
    built: list[object] = []
    monkeypatch.setattr(graphql_view, "current_request_id", lambda: built.append("line"))
    try:
        response = await gateway.client.post(
            "/graphql",
            json={"query": BY_EMAIL, "variables": {"email": SHOWCASE_EMAIL}},
        )
    finally:
        logging.getLogger(ACCESS).setLevel(logging.NOTSET)

    assert response.status_code == 200
    assert json_logs.lines(ACCESS) == []
    assert built == []
