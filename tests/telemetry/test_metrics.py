"""/metrics as Prometheus reads it: requests, upstream calls (as the simulators logged them),
retries, circuits and rate-limit waits, in a registry of each app's own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client import REGISTRY

from gateway.config import ProviderSettings, Settings, sandbox_settings, tune
from gateway.providers.http import ProviderHTTP, json_error_parser
from gateway.providers.resilience import RateLimiter
from gateway.sandbox.dataset import Dataset
from gateway.sandbox.faults import Faults
from gateway.server import create_app
from gateway.telemetry.app import Telemetry
from gateway.telemetry.labels import UPSTREAM_KINDS, OperationNames
from gateway.telemetry.metrics import GatewayMetrics
from gateway.telemetry.upstream import UpstreamTelemetry
from tests.conftest import GatewayHarness, gateway_harness
from tests.telemetry.conftest import scrape

SHOWCASE = 'query Showcase { customerByEmail(email: "ada@lovelace.example") { id name } }'


@pytest.fixture
async def gateway(small_dataset: Dataset) -> AsyncIterator[GatewayHarness]:
    async with gateway_harness(small_dataset, metrics=True) as harness:
        yield harness


async def test_requests_and_upstream_calls_match_what_the_simulators_logged(
    gateway: GatewayHarness,
) -> None:
    await gateway.query(SHOWCASE)
    await gateway.query(SHOWCASE)
    await gateway.query("{ customers(first: 3) { edges { node { id } } } }")

    metrics = await scrape(gateway.client)

    assert metrics.by("graphql_requests_total", "operation", outcome="ok") == {
        "Showcase": 2,
        "anonymous": 1,
    }
    assert metrics.value("graphql_request_duration_seconds_count", operation="Showcase") == 2
    assert metrics.value("graphql_request_duration_seconds_count", operation="anonymous") == 1
    counts = gateway.call_counts()
    assert all(counts.values())
    assert metrics.by("upstream_requests_total", "provider") == counts
    assert metrics.by("upstream_request_duration_seconds_count", "provider") == counts
    assert metrics.labels("upstream_requests_total", "status") == {"2xx", "4xx"}
    assert metrics.labels("upstream_requests_total", "lookup") <= UPSTREAM_KINDS
    assert metrics.value("upstream_requests_total", provider="stripe", lookup="list") == 1
    assert metrics.value("upstream_requests_total", provider="stripe", lookup="email") >= 1
    assert metrics.by("upstream_circuit_state", "provider") == dict.fromkeys(counts, 0)


async def test_writes_are_labelled_by_what_they_do(gateway: GatewayHarness) -> None:
    body = await gateway.query(
        "mutation { createCustomer(input: "
        '{name: "Grace", email: "grace@hopper.example", externalId: "co_grace"}) '
        "{ outcomes { provider status } } }"
    )
    assert {o["status"] for o in body["data"]["createCustomer"]["outcomes"]} == {"APPLIED"}

    metrics = await scrape(gateway.client)

    created = metrics.by("upstream_requests_total", "provider", lookup="create")
    assert created == {"stripe": 1, "lago": 1}
    assert metrics.by("upstream_requests_total", "provider") == {
        name: count for name, count in gateway.call_counts().items() if count
    }


async def test_outcomes_rejected_and_error_and_the_graphiql_page_uncounted(
    gateway: GatewayHarness,
) -> None:
    await gateway.query("query Broken { nosuch }")  # validation: never executed
    bad_json = await gateway.client.post(
        "/graphql", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 400
    await gateway.query('query Lost { customer(id: "nope") { id } }')  # executed, INVALID_ID
    assert (await gateway.client.get("/graphql")).status_code == 200  # the GraphiQL page

    metrics = await scrape(gateway.client)

    assert metrics.by("graphql_requests_total", "operation", outcome="rejected") == {
        "Broken": 1,
        "anonymous": 1,
    }
    assert metrics.by("graphql_requests_total", "operation", outcome="error") == {"Lost": 1}
    assert metrics.value("graphql_requests_total") == 3
    assert metrics.value("graphql_request_duration_seconds_count") == 3
    assert gateway.call_counts() == dict.fromkeys(gateway.call_counts(), 0)


async def test_a_provider_outage_shows_as_5xx_retries_degraded_and_an_open_circuit(
    gateway: GatewayHarness,
) -> None:
    gateway.set_faults("lago", Faults(outage=True))
    # The harness lets circuits probe again after 50 ms; keep this one open while we look.
    # The breaker counts failed logical calls (not attempts): two open it.
    breaker = gateway.app.state.adapters["lago"].http.breaker
    breaker.reset_timeout, breaker.threshold = 3600, 2

    body = await gateway.query(SHOWCASE)

    assert [d["provider"] for d in body["extensions"]["degradedProviders"]] == ["lago"]
    metrics = await scrape(gateway.client)
    assert metrics.by("graphql_requests_total", "outcome") == {"degraded": 1}
    lago_calls = gateway.call_counts()["lago"]
    assert lago_calls >= 2  # at least the two failed calls that opened the circuit
    assert metrics.by("upstream_requests_total", "status", provider="lago") == {"5xx": lago_calls}
    assert metrics.value("upstream_retries_total", provider="lago", kind="unavailable") >= 1
    assert metrics.value("upstream_circuit_openings_total", provider="lago") == 1
    assert metrics.by("upstream_circuit_state", "provider")["lago"] == 2
    assert metrics.by("upstream_circuit_state", "provider")["stripe"] == 0


async def test_metrics_are_not_served_on_the_api_by_default(small_dataset: Dataset) -> None:
    async with gateway_harness(small_dataset) as gateway:
        assert (await gateway.client.get("/metrics")).status_code == 404


async def test_each_app_counts_in_its_own_registry(small_dataset: Dataset) -> None:
    async with (
        gateway_harness(small_dataset, metrics=True) as first,
        gateway_harness(small_dataset, metrics=True) as second,
    ):
        await first.query(SHOWCASE)

        assert (await scrape(first.client)).value("graphql_requests_total") == 1
        assert (await scrape(second.client)).value("graphql_requests_total") == 0
    assert REGISTRY.get_sample_value("customer_gateway_graphql_requests_total") is None


def test_operation_names_are_capped_and_checked() -> None:
    names = OperationNames(limit=2)

    assert [names.label(n) for n in ("A", "B", "C", "A", None, "", "not a name")] == [
        "A",
        "B",
        "other",
        "A",
        "anonymous",
        "anonymous",
        "other",
    ]
    # operationName is whatever the client sent: a list or a number is no name at all
    assert names.label(["A"]) == names.label(7) == "other"


def test_create_app_reads_no_tracing_from_an_empty_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)

    app = create_app(Settings(providers=sandbox_settings()))

    assert isinstance(app.state.telemetry, Telemetry)
    assert app.state.telemetry.tracer is None


async def test_client_side_rate_limit_waits_are_counted() -> None:
    metrics = GatewayMetrics()
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    settings = tune(
        ProviderSettings(name="acme", base_url="http://acme.test", api_key="k"),
        rate_limit=10,
        rate_burst=1,
    )
    http = ProviderHTTP(
        settings,
        auth_headers={},
        error_parser=json_error_parser(("error",)),
        transport=httpx.MockTransport(lambda request: httpx.Response(200, json={})),
        telemetry=UpstreamTelemetry(metrics),
    )
    http.rate_limiter = RateLimiter(10, 1, clock=lambda: now[0], sleep=sleep)
    try:
        await http.request("GET", "/a")
        await http.request("GET", "/b")
    finally:
        await http.aclose()

    def sample(name: str) -> float | None:
        return metrics.registry.get_sample_value(name, {"provider": "acme"})

    assert sample("customer_gateway_upstream_rate_limit_waits_total") == 1
    assert sample("customer_gateway_upstream_rate_limit_wait_seconds_total") == pytest.approx(0.1)
