"""What one app learns from its provider clients: calls, retries, circuits, rate-limit waits.

:class:`~gateway.providers.http.ProviderHTTP` is handed an :class:`UpstreamTelemetry` when it is
built (through the adapter) and reports to it from two places: each attempt that goes out
(:meth:`UpstreamTelemetry.attempt`) and each retry, circuit opening and rate-limit wait. The
default, :data:`NO_TELEMETRY`, records nothing, so an adapter built outside an app costs nothing.

Labels and span attributes are bounded names only: provider, lookup kind
(:mod:`gateway.telemetry.labels`), method, status class, error kind. URLs, paths, query strings
and ids never appear: they hold customers' emails and ids.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Final

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from gateway.telemetry.labels import current_upstream_kind
from gateway.telemetry.metrics import BreakerLike, GatewayMetrics
from gateway.telemetry.tracing import inject_traceparent

__all__ = ["NO_TELEMETRY", "Attempt", "UpstreamTelemetry"]

CANCELLED: Final = "cancelled"
"""The status of an attempt abandoned before its verdict (the caller was cancelled)."""


class UpstreamTelemetry:
    """Reports provider calls to an app's metrics and tracer; either may be ``None`` (off)."""

    def __init__(
        self, metrics: GatewayMetrics | None = None, tracer: trace.Tracer | None = None
    ) -> None:
        self.metrics = metrics
        self.tracer = tracer

    def attempt(self, provider: str, method: str, number: int) -> Attempt:
        """The record of one attempt (``number`` 0 is the first try); it counts only once
        :meth:`Attempt.sending` says the request goes out."""
        return Attempt(self, provider, method, number)

    def watch_circuit(self, provider: str, breaker: BreakerLike) -> None:
        if self.metrics is not None:
            self.metrics.watch_circuit(provider, breaker)

    def retry(self, provider: str, kind: str) -> None:
        if self.metrics is not None:
            self.metrics.retry(provider, kind)

    def circuit_opened(self, provider: str) -> None:
        if self.metrics is not None:
            self.metrics.circuit_opened(provider)

    def rate_limited(self, provider: str, seconds: float) -> None:
        if self.metrics is not None and seconds > 0:
            self.metrics.rate_limited(provider, seconds)


NO_TELEMETRY: Final = UpstreamTelemetry()


def status_label(status: int | None, error_kind: str | None) -> str:
    """``2xx``/``4xx``/``5xx`` when the provider answered, else the error kind."""
    if status is not None:
        return f"{status // 100}xx"
    return error_kind or "unknown"


class Attempt:
    """One attempt's metrics and span: started by :meth:`sending`, ended by :meth:`done` (or
    :meth:`close`, for an attempt abandoned on the way)."""

    __slots__ = (
        "_ended",
        "_kind",
        "_span",
        "_started",
        "_status",
        "method",
        "number",
        "owner",
        "provider",
    )

    def __init__(self, owner: UpstreamTelemetry, provider: str, method: str, number: int) -> None:
        self.owner = owner
        self.provider = provider
        self.method = method
        self.number = number
        self._kind = current_upstream_kind()
        self._started: float | None = None
        self._status: int | None = None
        self._span: trace.Span | None = None
        self._ended = False

    def sending(self, headers: Mapping[str, str]) -> Mapping[str, str]:
        """The request goes out now: start the clock and the span; returns the headers to send
        (with ``traceparent`` when tracing)."""
        self._started = time.perf_counter()
        tracer = self.owner.tracer
        if tracer is None:
            return headers
        self._span = tracer.start_span(
            f"{self.method} {self.provider} {self._kind}",
            kind=SpanKind.CLIENT,
            attributes={
                "http.request.method": self.method,
                "gateway.provider": self.provider,
                "gateway.upstream.lookup": self._kind,
                "gateway.upstream.attempt": self.number + 1,
                "http.request.resend_count": self.number,
            },
        )
        return inject_traceparent(self._span, headers)

    def answered(self, status: int) -> None:
        """The provider answered with ``status``."""
        self._status = status

    def done(self, error_kind: str | None) -> None:
        """The attempt's verdict: ``None`` for success, else the error kind."""
        self._end(status_label(self._status, error_kind), error_kind)

    def close(self) -> None:
        """End an attempt that went out but got no verdict (no-op after :meth:`done`)."""
        self._end(CANCELLED, CANCELLED)

    def _end(self, status: str, error_kind: str | None) -> None:
        if self._ended or self._started is None:
            return
        self._ended = True
        if self.owner.metrics is not None:
            seconds = time.perf_counter() - self._started
            self.owner.metrics.upstream(self.provider, self._kind, status, seconds)
        span = self._span
        if span is None:
            return
        if self._status is not None:
            span.set_attribute("http.response.status_code", self._status)
        if error_kind is not None:
            span.set_attribute("error.type", error_kind)
            span.set_status(Status(StatusCode.ERROR))
        span.end()
