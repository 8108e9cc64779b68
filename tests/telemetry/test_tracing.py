"""Spans: one per GraphQL operation, one child per upstream attempt, W3C trace context in and
(``traceparent`` only) out. Spans go to an in-memory exporter on a provider the test owns."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from opentelemetry.sdk.resources import SERVICE_NAME
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind, StatusCode

from gateway.config import ConfigError
from gateway.sandbox.dataset import Dataset
from gateway.sandbox.faults import Faults
from gateway.telemetry.labels import UPSTREAM_KINDS
from gateway.telemetry.tracing import tracer_provider_from_env
from tests.conftest import GatewayHarness, gateway_harness
from tests.telemetry.conftest import Traces, attributes, scrape

SHOWCASE = 'query Showcase { customerByEmail(email: "ada@lovelace.example") { id name } }'
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


@pytest.fixture
async def gateway(small_dataset: Dataset, traces: Traces) -> AsyncIterator[GatewayHarness]:
    async with gateway_harness(
        small_dataset, metrics=True, tracer_provider=traces.provider
    ) as harness:
        yield harness


async def test_one_operation_span_and_one_child_per_upstream_attempt(
    gateway: GatewayHarness, traces: Traces
) -> None:
    await gateway.query(SHOWCASE)

    [operation] = traces.spans(SpanKind.SERVER)
    assert operation.name == "Showcase"
    assert attributes(operation) == {
        "graphql.operation.name": "Showcase",
        "graphql.operation.type": "query",
        "gateway.outcome": "ok",
    }
    assert operation.parent is None
    upstream = traces.spans(SpanKind.CLIENT)
    assert len(upstream) == sum(gateway.call_counts().values())
    per_provider: dict[str, int] = {}
    for span in upstream:
        assert span.parent is not None
        assert span.parent.span_id == operation.context.span_id
        assert span.context.trace_id == operation.context.trace_id
        found = attributes(span)
        assert found["http.request.method"] == "GET"
        assert found["gateway.upstream.lookup"] in UPSTREAM_KINDS
        assert found["gateway.upstream.attempt"] == 1
        assert found["http.response.status_code"] in (200, 404)
        provider = str(found["gateway.provider"])
        per_provider[provider] = per_provider.get(provider, 0) + 1
    assert per_provider == gateway.call_counts()


async def test_an_incoming_traceparent_is_the_parent_and_goes_upstream_alone(
    gateway: GatewayHarness, traces: Traces
) -> None:
    response = await gateway.client.post(
        "/graphql",
        json={"query": SHOWCASE},
        headers={
            "traceparent": TRACEPARENT,
            "tracestate": "vendor=secret-ish",
            "baggage": "user=ada@lovelace.example",
        },
    )
    assert response.status_code == 200

    [operation] = traces.spans(SpanKind.SERVER)
    assert format(operation.context.trace_id, "032x") == TRACE_ID
    assert operation.parent is not None and operation.parent.is_remote
    assert format(operation.parent.span_id, "016x") == PARENT_ID
    sent = gateway.calls()
    assert sent
    span_ids = {format(s.context.span_id, "016x") for s in traces.spans(SpanKind.CLIENT)}
    for entry in sent:
        version, trace_id, span_id, _ = entry.headers["traceparent"].split("-")
        assert (version, trace_id) == ("00", TRACE_ID)
        assert span_id in span_ids
        assert "tracestate" not in entry.headers and "baggage" not in entry.headers


async def test_without_tracing_nothing_is_traced_or_sent(
    small_dataset: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ):
        monkeypatch.delenv(name, raising=False)
    async with gateway_harness(small_dataset) as gateway:
        await gateway.client.post(
            "/graphql", json={"query": SHOWCASE}, headers={"traceparent": TRACEPARENT}
        )
        assert gateway.calls()
        assert all("traceparent" not in entry.headers for entry in gateway.calls())


async def test_an_outage_traces_every_attempt_and_retry(
    gateway: GatewayHarness, traces: Traces
) -> None:
    gateway.set_faults("lago", Faults(outage=True))
    # A circuit that never opens: every retry the policy decides on goes out.
    gateway.app.state.adapters["lago"].http.breaker.threshold = 0

    await gateway.query(SHOWCASE)

    [operation] = traces.spans(SpanKind.SERVER)
    assert attributes(operation)["gateway.outcome"] == "degraded"
    assert attributes(operation)["gateway.degraded_providers"] == ("lago",)
    lago = [s for s in traces.spans(SpanKind.CLIENT) if attributes(s)["gateway.provider"] == "lago"]
    assert len(lago) == gateway.call_counts()["lago"]
    for span in lago:
        assert attributes(span)["http.response.status_code"] == 503
        assert attributes(span)["error.type"] == "unavailable"
        assert span.status.status_code is StatusCode.ERROR
    retries = [s for s in lago if attributes(s)["http.request.resend_count"] != 0]
    assert len(retries) == 2 * (len(lago) - len(retries))  # two retries per call (the default)
    metrics = await scrape(gateway.client)
    assert metrics.value("upstream_retries_total", provider="lago") == len(retries)


async def test_a_rejected_operation_is_traced_without_upstream_calls(
    gateway: GatewayHarness, traces: Traces
) -> None:
    await gateway.query("query Broken { nosuch }")

    [operation] = traces.spans()
    assert operation.name == "Broken"
    assert attributes(operation)["gateway.outcome"] == "rejected"


# -- configuration from the OTEL_* variables ------------------------------------------------


def _shutdown(provider: TracerProvider | None) -> None:
    if provider is not None:
        provider.shutdown()


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
        {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
    ],
)
def test_tracing_is_off_unless_an_exporter_is_configured(env: dict[str, str]) -> None:
    assert tracer_provider_from_env(env) is None


@pytest.mark.parametrize(
    "env",
    [
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
        {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"},
        {"OTEL_TRACES_EXPORTER": "console"},
    ],
)
def test_an_exporter_turns_tracing_on_as_customer_gateway(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    provider = tracer_provider_from_env(env)
    try:
        assert provider is not None
        assert provider.resource.attributes[SERVICE_NAME] == "customer-gateway"
    finally:
        _shutdown(provider)


def test_otel_service_name_names_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "billing-gateway")
    provider = tracer_provider_from_env({"OTEL_TRACES_EXPORTER": "console"})
    try:
        assert provider is not None
        assert provider.resource.attributes[SERVICE_NAME] == "billing-gateway"
    finally:
        _shutdown(provider)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER"),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ),
    ],
)
def test_an_exporter_this_install_lacks_stops_start_up(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        tracer_provider_from_env(env)
