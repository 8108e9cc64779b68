"""The gateway's ASGI app: GraphQL (with GraphiQL) on Starlette, adapters owned by the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from gateway.config import Settings
from gateway.core.context import RequestContext
from gateway.errors import ErrorCode
from gateway.graphiql import STATIC_PATH, render_page, static_files
from gateway.providers.contract import ProviderAdapter
from gateway.providers.health import circuit_state, readiness
from gateway.providers.http import count_upstream_calls
from gateway.providers.notices import collect_notices
from gateway.providers.registry import build_adapters
from gateway.request_guard import Refused, RequestGuard
from gateway.request_id import HEADER as REQUEST_ID_HEADER
from gateway.request_id import RequestIdMiddleware, current_request_id
from gateway.writes.idempotency import IdempotencyStore
from gateway.writes.outcomes import MutationResult
from resolvers.errors import finalise_errors
from resolvers.schema import build_schema

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"

access_log = logging.getLogger("customer_gateway.access")


class GatewayGraphQL(GraphQL[RequestContext, None]):
    """Strawberry's ASGI view with a fresh :class:`RequestContext` (and loaders) per request."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        # Body size, request deadline, client disconnect: gateway/request_guard.py.
        guard = RequestGuard(scope, receive)
        request = Request(scope, guard.receive)
        started = time.perf_counter()
        try:
            with count_upstream_calls() as calls, collect_notices() as notices:
                response = await guard.run(lambda: self.run(request))
        except HTTPException as exc:
            # Strawberry answers these in plain text; clients expect GraphQL-shaped JSON.
            response = _error_response(exc.reason, ErrorCode.BAD_REQUEST, exc.status_code)
        except Refused as exc:  # too large to read, or still running past the deadline
            response = _error_response(exc.message, exc.code, exc.status)
        except asyncio.CancelledError:
            # uvicorn cancels the requests still running when the shutdown drain runs out
            # (docs/deployment.md). Answer them in GraphQL instead of uvicorn's plain-text 500;
            # the cancellation has done its job, so the task ends normally.
            if (task := asyncio.current_task()) is not None:
                task.uncancel()
            response = _error_response(
                "the gateway is shutting down; retry the request",
                ErrorCode.SHUTTING_DOWN,
                503,
            )
        await response(scope, receive, send)
        _log_request(request, response.status_code, time.perf_counter() - started, calls, notices)

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
        """Our page (gateway/graphiql) rather than Strawberry's, which loads from a CDN."""
        return render_page(request)


def _error_response(message: str, code: ErrorCode, status: int) -> Response:
    """A GraphQL-shaped error for a request that never produced a result."""
    return JSONResponse(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code.value}}]},
        status_code=status,
    )


def _log_request(
    request: Request,
    status: int,
    seconds: float,
    calls: Mapping[str, int],
    notices: Mapping[str, str],
) -> None:
    """One line per GraphQL request: who asked what, what it cost upstream and in time, and
    which providers degraded (those the response lists in ``extensions.degradedProviders``).
    Never the query text, variables or bodies: they may hold personal data."""
    if request.method == "GET" and "query" not in request.query_params:
        return  # the GraphiQL page, not an operation
    context: RequestContext | None = getattr(request.state, "gateway_context", None)
    failed = context.degraded if context is not None else {}
    client = request.scope.get("client")
    access_log.info(
        "graphql request",
        extra={
            "request_id": current_request_id(),
            "client": f"{client[0]}:{client[1]}" if client else None,
            "method": request.method,
            "path": request.scope["path"],
            "operation": (context.operation_name if context else None) or "anonymous",
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
            "upstream_calls": sum(calls.values()),
            "upstream_by_provider": dict(sorted(calls.items())),
            "degraded": sorted({*failed, *notices}),
            # Access control comes later; the field is here so dashboards need not change.
            "key_id": None,
        },
    )


def create_app(
    settings: Settings,
    *,
    adapters: Mapping[str, ProviderAdapter] | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    graphiql: bool = True,
) -> Starlette:
    """The gateway app. Without ``adapters``, the lifespan builds one per enabled provider
    (one pooled HTTP client each) and closes them on shutdown."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = adapters is None
        app.state.adapters = (
            build_adapters(settings, transports=transports) if owned else dict(adapters or {})
        )
        try:
            yield
        finally:
            if owned:
                for adapter in app.state.adapters.values():
                    await adapter.aclose()

    graphql_app = GatewayGraphQL(
        build_schema(settings.federation_version),
        graphql_ide="graphiql" if graphiql else None,
        allow_queries_via_get=True,
        subscription_protocols=(),
    )

    async def health(request: Request) -> Response:
        """Liveness: the process answers. Each provider's circuit is shown, but ``open`` means
        the gateway is failing fast for that provider (its fields answer degraded), not that
        the gateway is down; ``/readyz`` says whether it can serve."""
        circuits = {
            name: circuit_state(adapter)
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

    async def ready(request: Request) -> Response:
        """Readiness: 200 while at least one provider is usable (circuit not open, key not
        rejected), else 503 with the same body, so a load balancer routes elsewhere."""
        ok, providers = readiness(request.app.state.adapters)
        body = {"status": "ready" if ok else "not_ready", "sandbox": settings.sandbox}
        return JSONResponse({**body, "providers": providers}, status_code=200 if ok else 503)

    async def root(request: Request) -> Response:
        return RedirectResponse("/graphql")

    # Outermost, so every response carries the request id, CORS answers and errors included.
    middleware = [Middleware(RequestIdMiddleware)]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["content-type", "authorization", REQUEST_ID_HEADER.lower()],
                expose_headers=[REQUEST_ID_HEADER],
                max_age=600,
            )
        )
    routes: list[BaseRoute] = [
        Route("/", root),
        Route("/healthz", health),
        Route("/readyz", ready),
        Route("/graphql", graphql_app, methods=["GET", "POST"]),
    ]
    if graphiql:
        routes.append(Mount(STATIC_PATH, static_files(), name="graphiql-static"))
    app = Starlette(
        middleware=middleware,
        routes=routes,
        lifespan=lifespan,
    )
    app.state.settings = settings
    # Mutation idempotency keys are remembered for the life of the process (docs/writes.md).
    app.state.idempotency = IdempotencyStore[MutationResult]()
    return app
