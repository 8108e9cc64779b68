"""One measurement and one span per GraphQL operation.

Two halves, because neither alone sees everything:

- :class:`OperationTelemetry`, an ASGI middleware around the GraphQL endpoint, times the whole
  request, reads the incoming ``traceparent`` and records the request metrics once the response
  is sent. It sees requests Strawberry refuses before running anything (unreadable JSON, no
  query: ``rejected``) and server failures (``error``).
- :class:`OperationObserver`, a Strawberry schema extension, knows the operation: its name and
  type, whether it got as far as execution, its errors and degraded providers. It opens the
  operation's span around parsing, validation and execution, so every upstream attempt span
  (started in the same context) is its child.

They meet through a context variable holding the request's :class:`OperationRecord`; the schema
is shared by every app, and the record says which app's telemetry a request belongs to. Without
the middleware (a schema executed directly) the extension does nothing.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar, Token
from dataclasses import dataclass, field

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from gateway.providers.notices import current_notices
from gateway.telemetry.app import Telemetry
from gateway.telemetry.labels import ANONYMOUS
from gateway.telemetry.tracing import extract_parent

__all__ = ["OperationObserver", "OperationRecord", "OperationTelemetry"]

_MAX_NAME = 128
"""Longest operation name put on a span attribute (clients choose it)."""


@dataclass
class OperationRecord:
    """What the extension learnt about the request's operation, for the middleware."""

    telemetry: Telemetry
    parent: otel_context.Context | None = None
    label: str = ANONYMOUS
    outcome: str | None = None
    """``None`` until the schema ran: the request never reached GraphQL."""
    degraded: tuple[str, ...] = field(default=())

    def final_outcome(self, status: int, failed: bool) -> str | None:
        """The outcome to count, or ``None`` for a request that was no operation (the GraphiQL
        page)."""
        if failed or status >= 500:
            return "error"
        if self.outcome is not None:
            return self.outcome
        return "rejected" if status >= 400 else None


_current: ContextVar[OperationRecord | None] = ContextVar("graphql_operation", default=None)


class OperationTelemetry:
    """ASGI middleware for the GraphQL endpoint: request metrics, trace context."""

    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracing = self.telemetry.tracer is not None
        record = OperationRecord(
            self.telemetry, extract_parent(Headers(scope=scope)) if tracing else None
        )
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        token = _current.set(record)
        failed = True
        try:
            await self.app(scope, receive, send_status)
            failed = False
        finally:
            _current.reset(token)
            outcome = record.final_outcome(status, failed)
            if outcome is not None:
                seconds = time.perf_counter() - started
                self.telemetry.metrics.operation(record.label, outcome, seconds)


class OperationObserver(SchemaExtension):
    """Names the operation and its outcome for :class:`OperationTelemetry`, and traces it."""

    _executed = False

    def on_execute(self) -> Iterator[None]:
        self._executed = True
        yield

    def on_operation(self) -> Iterator[None]:
        record = _current.get()
        if record is None:
            yield
            return
        span: trace.Span | None = None
        token: Token[otel_context.Context] | None = None
        if (tracer := record.telemetry.tracer) is not None:
            span = tracer.start_span("graphql", context=record.parent, kind=SpanKind.SERVER)
            token = otel_context.attach(trace.set_span_in_context(span, record.parent))
        raised = True
        try:
            yield
            raised = False
        finally:
            if token is not None:
                otel_context.detach(token)
            self._observe(record, raised)
            if span is not None:
                _finish_span(span, record, self.execution_context)

    def _observe(self, record: OperationRecord, raised: bool) -> None:
        ctx = self.execution_context
        record.label = record.telemetry.metrics.operation_names.label(ctx.operation_name)
        failed = getattr(ctx.context, "degraded", None) or {}
        record.degraded = tuple(sorted({*failed, *current_notices()}))
        if not self._executed:
            record.outcome = "rejected"
        elif raised:
            record.outcome = "error"
        elif record.degraded:
            record.outcome = "degraded"
        elif ctx.pre_execution_errors:
            record.outcome = "error"
        else:
            record.outcome = "ok"


def _finish_span(span: trace.Span, record: OperationRecord, ctx: ExecutionContext) -> None:
    span.update_name(record.label)
    if ctx.operation_name:
        span.set_attribute("graphql.operation.name", ctx.operation_name[:_MAX_NAME])
    if ctx.graphql_document is not None:
        with contextlib.suppress(RuntimeError):  # the document names no such operation
            span.set_attribute("graphql.operation.type", ctx.operation_type.value)
    span.set_attribute("gateway.outcome", record.outcome or "error")
    if record.degraded:
        span.set_attribute("gateway.degraded_providers", record.degraded)
    if record.outcome == "error":
        span.set_status(Status(StatusCode.ERROR))
    span.end()
