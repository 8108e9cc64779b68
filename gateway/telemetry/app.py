"""One app's telemetry: its metrics registry, its tracer, and what its provider clients get."""

from __future__ import annotations

import asyncio

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from gateway.telemetry.metrics import GatewayMetrics
from gateway.telemetry.tracing import TRACER_NAME, tracer_provider_from_env
from gateway.telemetry.upstream import UpstreamTelemetry

__all__ = ["Telemetry"]


class Telemetry:
    """Metrics always (they cost little and stay in-process until scraped); traces when a
    tracer provider is given. A provider built from the environment (:meth:`from_env`) is owned
    and flushed by :meth:`aclose`; one passed in stays the caller's."""

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        metrics: GatewayMetrics | None = None,
        owns_tracer_provider: bool = False,
    ) -> None:
        self.metrics = metrics if metrics is not None else GatewayMetrics()
        self.tracer_provider = tracer_provider
        self.tracer: trace.Tracer | None = (
            tracer_provider.get_tracer(TRACER_NAME) if tracer_provider is not None else None
        )
        self.upstream = UpstreamTelemetry(self.metrics, self.tracer)
        self._owns_tracer_provider = owns_tracer_provider

    @classmethod
    def from_env(cls) -> Telemetry:
        """Tracing as the ``OTEL_*`` variables configure it (see
        :func:`~gateway.telemetry.tracing.tracer_provider_from_env`)."""
        return cls(tracer_provider=tracer_provider_from_env(), owns_tracer_provider=True)

    async def aclose(self) -> None:
        """Flush and stop an owned tracer provider (its exporter may block: off the loop)."""
        provider = self.tracer_provider
        if self._owns_tracer_provider and isinstance(provider, TracerProvider):
            await asyncio.to_thread(provider.shutdown)
