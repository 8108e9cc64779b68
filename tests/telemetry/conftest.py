"""Scraping an app's ``/metrics`` the way Prometheus reads it, and spans kept in memory."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client.parser import text_string_to_metric_families

PREFIX = "customer_gateway_"


@dataclass(frozen=True)
class Scrape:
    """Samples by name, parsed with prometheus_client's own text parser."""

    samples: dict[str, list[tuple[dict[str, str], float]]]

    def value(self, name: str, **labels: str) -> float:
        """The sum over samples of ``name`` whose labels include ``labels`` (0 when none)."""
        return sum(
            value
            for found, value in self.samples.get(PREFIX + name, [])
            if all(found.get(k) == v for k, v in labels.items())
        )

    def by(self, name: str, label: str, **labels: str) -> dict[str, float]:
        """The sum of ``name`` per value of ``label`` (samples matching ``labels``)."""
        totals: dict[str, float] = {}
        for found, value in self.samples.get(PREFIX + name, []):
            if all(found.get(k) == v for k, v in labels.items()):
                totals[found[label]] = totals.get(found[label], 0) + value
        return totals

    def labels(self, name: str, label: str) -> set[str]:
        return {found[label] for found, _ in self.samples.get(PREFIX + name, [])}


def parse(text: str) -> Scrape:
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return Scrape(samples)


async def scrape(client: httpx.AsyncClient) -> Scrape:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


@dataclass
class Traces:
    provider: TracerProvider
    exporter: InMemorySpanExporter

    def spans(self, kind: SpanKind | None = None) -> list[ReadableSpan]:
        found = self.exporter.get_finished_spans()
        return [s for s in found if kind is None or s.kind is kind]


@pytest.fixture
def traces() -> Iterator[Traces]:
    """A tracer provider of the test's own (never the global one), exporting to memory."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield Traces(provider, exporter)
    provider.shutdown()


def attributes(span: ReadableSpan) -> Mapping[str, object]:
    return dict(span.attributes or {})
