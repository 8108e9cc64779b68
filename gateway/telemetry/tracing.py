"""OpenTelemetry tracing: configured by the standard ``OTEL_*`` variables, off unless they name
an exporter.

Tracing is on when ``OTEL_TRACES_EXPORTER`` names one (``otlp`` or ``console``) or, with that
variable unset, when ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_ENDPOINT``
is set. ``OTEL_TRACES_EXPORTER=none`` or ``OTEL_SDK_DISABLED=true`` turn it off. The OTLP
exporter (HTTP/protobuf) and the sampler read their own variables (endpoint, headers, timeout,
``OTEL_TRACES_SAMPLER``...). The service is ``customer-gateway`` unless ``OTEL_SERVICE_NAME`` or
``service.name`` in ``OTEL_RESOURCE_ATTRIBUTES`` says otherwise.

The gateway never installs a global tracer provider: each app uses the one it was given, so
tests pass their own (with an in-memory exporter) and nothing else in the process is affected.

Propagation is W3C trace context only: the incoming ``traceparent`` (and ``tracestate``) become
the operation span's parent; upstream requests carry ``traceparent`` alone. Baggage is neither
read nor sent, and the client's ``tracestate`` is not forwarded, so nothing a client sends rides
along to the providers except the random trace id.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from gateway.config import ConfigError

__all__ = [
    "DEFAULT_SERVICE_NAME",
    "TRACER_NAME",
    "extract_parent",
    "inject_traceparent",
    "tracer_provider_from_env",
]

DEFAULT_SERVICE_NAME: Final = "customer-gateway"
TRACER_NAME: Final = "customer_gateway"
_EXPORTERS: Final = ("otlp", "console", "none")
_PROPAGATOR: Final = TraceContextTextMapPropagator()


def tracer_provider_from_env(env: Mapping[str, str] | None = None) -> TracerProvider | None:
    """A provider exporting as the ``OTEL_*`` variables say (batched), or ``None`` when they
    configure no exporter. An exporter or protocol this install lacks stops start-up."""
    env = os.environ if env is None else env
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    names = [n.strip().lower() for n in env.get("OTEL_TRACES_EXPORTER", "").split(",")]
    names = [n for n in names if n]
    if not names and (
        env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    ):
        names = ["otlp"]
    for name in names:
        if name not in _EXPORTERS:
            raise ConfigError(
                f"OTEL_TRACES_EXPORTER: expected one of {', '.join(_EXPORTERS)}, got {name!r}"
            )
    if not names or "none" in names:
        return None
    provider = TracerProvider(resource=_resource())
    for name in dict.fromkeys(names):
        provider.add_span_processor(BatchSpanProcessor(_exporter(name, env)))
    return provider


def _exporter(name: str, env: Mapping[str, str]) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    variable = (
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
        if env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        else "OTEL_EXPORTER_OTLP_PROTOCOL"
    )
    protocol = env.get(variable, "").strip() or "http/protobuf"
    if protocol != "http/protobuf":
        raise ConfigError(f"{variable}: only http/protobuf is installed, got {protocol!r}")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # endpoint, headers, timeout...: from the OTEL_* variables


def _resource() -> Resource:
    """The SDK's resource from the environment, named ``customer-gateway`` by default."""
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    return resource


def extract_parent(headers: Mapping[str, str]) -> otel_context.Context:
    """The context an incoming ``traceparent`` names (empty when there is none or it is
    malformed)."""
    return _PROPAGATOR.extract(headers)


def inject_traceparent(span: trace.Span, headers: Mapping[str, str]) -> dict[str, str]:
    """``headers`` plus the ``traceparent`` naming ``span``; nothing else is added."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span))
    out = dict(headers)
    if "traceparent" in carrier:
        out["traceparent"] = carrier["traceparent"]
    return out
