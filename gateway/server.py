"""The gateway's ASGI app: GraphQL (with GraphiQL) on Starlette, adapters owned by the lifespan."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
from cross_web import HTTPException
from opentelemetry.trace import TracerProvider
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from gateway.config import Settings
from gateway.core.context import RequestContext
from gateway.errors import ErrorCode
from gateway.providers.contract import ProviderAdapter
from gateway.providers.http import count_upstream_calls
from gateway.providers.notices import collect_notices
from gateway.providers.registry import build_adapters
from gateway.telemetry.app import Telemetry
from gateway.telemetry.exposition import metrics_endpoint
from gateway.telemetry.operations import OperationTelemetry
from gateway.writes.idempotency import IdempotencyStore
from gateway.writes.outcomes import MutationResult
from resolvers.errors import finalise_errors
from resolvers.schema import build_schema

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"

access_log = logging.getLogger("customer_gateway.access")

EXAMPLE_QUERY = """\
# customer-gateway: one Customer across Stripe, ChartMogul, FirstOfficer, Lago and Tofupay.
# Press the play button (Ctrl-Enter) to see a customer merged from all five sandbox providers.
query ShowcaseCustomer {
  customerByEmail(email: "ada@lovelace.example") {
    id
    name
    email
    emails
    company
    currency
    createdAt
    metrics {
      mrr { amount currency }
      currentMrr { amount currency }
      balance { amount currency }
    }
    fieldSources { field provider recordId }
    identity {
      edges { rule namespace value left { provider id } right { provider id } }
      conflicts { kind field message values }
    }
    stripe { id email name }
    chartmogul { uuid externalId mrr { amount currency } }
    firstOfficer { id stripeId currentSubscriptionCount }
    lago { externalId providerCustomerId }
    tofupay { id email }
  }
}
"""


class GatewayGraphQL(GraphQL[RequestContext, None]):
    """Strawberry's ASGI view with a fresh :class:`RequestContext` (and loaders) per request."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        started = time.perf_counter()
        try:
            with count_upstream_calls() as calls, collect_notices():
                response = await self.run(request)
        except HTTPException as exc:
            # Strawberry answers these in plain text; clients expect GraphQL-shaped JSON.
            response = JSONResponse(
                {
                    "data": None,
                    "errors": [
                        {"message": exc.reason, "extensions": {"code": ErrorCode.BAD_REQUEST.value}}
                    ],
                },
                status_code=exc.status_code,
            )
        await response(scope, receive, send)
        _log_request(request, response.status_code, time.perf_counter() - started, calls)

    async def get_context(self, request: Any, response: Any) -> RequestContext:
        state = request.app.state
        request.state.sub_response = response
        context = RequestContext.create(
            state.settings, state.adapters, request, response, idempotency=state.idempotency
        )
        request.state.gateway_context = context
        return context

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        """GraphQL-over-HTTP: a request that never executed (parse/validation/variables) is a
        400 for clients that accept ``application/graphql-response+json``."""
        context = getattr(request.state, "gateway_context", None)
        result.errors = finalise_errors(result.errors, context.degraded if context else {})
        if (
            result.data is None
            and result.errors
            and GRAPHQL_RESPONSE_JSON in request.headers.get("accept", "")
        ):
            request.state.sub_response.status_code = 400
            request.state.sub_response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
        return await super().process_result(request, result)

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        if sub_response.headers.get("content-type") == GRAPHQL_RESPONSE_JSON:
            # Strawberry appends sub-response headers; keep exactly one content type.
            del response.headers["content-type"]
            response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
        return response

    async def render_graphql_ide(self, request: Request) -> Response:
        html = self.graphql_ide_html
        start = html.find("const EXAMPLE_QUERY = `")
        end = html.find("`;", start)
        if start != -1 and end != -1:
            html = (
                html[: start + len("const EXAMPLE_QUERY = `")]
                + EXAMPLE_QUERY.replace("`", "\\`")
                + html[end:]
            )
        return HTMLResponse(html)


def _log_request(request: Request, status: int, seconds: float, calls: Mapping[str, int]) -> None:
    """One line per GraphQL request: what it cost, upstream and in time, and who degraded."""
    if request.method == "GET" and "query" not in request.query_params:
        return  # the GraphiQL page, not an operation
    context = getattr(request.state, "gateway_context", None)
    degraded = sorted(context.degraded) if context is not None else []
    upstream = " ".join(f"{name}={count}" for name, count in sorted(calls.items())) or "none"
    access_log.info(
        "graphql status=%d ms=%.1f upstream_calls=%d [%s] degraded=%s",
        status,
        seconds * 1000,
        sum(calls.values()),
        upstream,
        ",".join(degraded) or "none",
    )


def _circuit_state(adapter: ProviderAdapter) -> str:
    http = getattr(adapter, "http", None)
    breaker = getattr(http, "breaker", None)
    return str(breaker.state) if breaker is not None else "unknown"


def create_app(
    settings: Settings,
    *,
    adapters: Mapping[str, ProviderAdapter] | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    graphiql: bool = True,
    metrics: bool = False,
    tracer_provider: TracerProvider | None = None,
) -> Starlette:
    """The gateway app. Without ``adapters``, the lifespan builds one per enabled provider
    (one pooled HTTP client each) and closes them on shutdown.

    Telemetry (docs/operations.md): the app's metrics live in ``app.state.telemetry``, served
    on the API itself only with ``metrics=True`` (tests; ``serve`` uses a separate address).
    Traces go to ``tracer_provider``, or as the ``OTEL_*`` variables configure (off by default).
    """
    telemetry = (
        Telemetry(tracer_provider=tracer_provider)
        if tracer_provider is not None
        else Telemetry.from_env()
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = adapters is None
        app.state.adapters = (
            build_adapters(settings, transports=transports, telemetry=telemetry.upstream)
            if owned
            else dict(adapters or {})
        )
        try:
            yield
        finally:
            if owned:
                for adapter in app.state.adapters.values():
                    await adapter.aclose()
            await telemetry.aclose()

    graphql_app = GatewayGraphQL(
        build_schema(settings.federation_version),
        graphql_ide="graphiql" if graphiql else None,
        allow_queries_via_get=True,
        subscription_protocols=(),
    )

    async def health(request: Request) -> Response:
        """Liveness plus each provider's circuit: ``open`` means the gateway is failing fast
        for that provider (its fields answer degraded), not that the gateway is down."""
        circuits = {
            name: _circuit_state(adapter)
            for name, adapter in sorted(request.app.state.adapters.items())
        }
        return JSONResponse(
            {
                "status": "ok",
                "sandbox": settings.sandbox,
                "providers": sorted(circuits),
                "circuits": circuits,
            }
        )

    async def root(request: Request) -> Response:
        return RedirectResponse("/graphql")

    middleware = []
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["content-type", "authorization"],
                max_age=600,
            )
        )
    routes = [
        Route("/", root),
        Route("/healthz", health),
        Route("/graphql", OperationTelemetry(graphql_app, telemetry), methods=["GET", "POST"]),
    ]
    if metrics:
        routes.append(Route("/metrics", metrics_endpoint(telemetry.metrics.registry)))
    app = Starlette(middleware=middleware, routes=routes, lifespan=lifespan)
    app.state.settings = settings
    app.state.telemetry = telemetry
    # Mutation idempotency keys are remembered for the life of the process (docs/writes.md).
    app.state.idempotency = IdempotencyStore[MutationResult]()
    return app
