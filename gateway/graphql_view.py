"""The GraphQL endpoint: Strawberry's ASGI view, wrapped in the gateway's edge.

Per request: the guard's limits (gateway/request_guard.py), access control, persisted
documents, a fresh :class:`~gateway.core.context.RequestContext`, GraphQL-shaped errors for
whatever Strawberry would answer in plain text, the access log line, and letting go of what the
request read once it is answered.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.types import ExecutionResult

from gateway.auth.gate import admit, principal_of
from gateway.core.context import RequestContext
from gateway.documents import DocumentRefused, PersistedDocuments, names_document
from gateway.errors import ErrorCode
from gateway.graphiql import render_page
from gateway.http_errors import (
    GRAPHQL_RESPONSE_JSON,
    decode_json,
    error_body,
    error_response,
    media_type,
    never_executed,
    request_error,
)
from gateway.providers.notices import collect_notices
from gateway.providers.upstream.counting import count_upstream_calls
from gateway.request_guard import Refused, RequestGuard
from gateway.request_id import current_request_id
from resolvers.errors import finalise_errors
from resolvers.extensions import shows_paths

__all__ = ["GatewayGraphQL"]

access_log = logging.getLogger("customer_gateway.access")
logger = logging.getLogger("customer_gateway.server")


class GatewayGraphQL(GraphQL[RequestContext, None]):
    """Strawberry's ASGI view with a fresh :class:`RequestContext` (and loaders) per request."""

    def __init__(self, schema: Any, *, documents: PersistedDocuments, **options: Any) -> None:
        super().__init__(schema, **options)
        self.documents = documents

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
                # Access control: a refused request (401/429) never reaches Strawberry.
                response = await admit(request) or await guard.run(lambda: self.run(request))
        except DocumentRefused as exc:  # APQ / trusted documents (gateway/documents)
            response = error_response(
                exc.message,
                exc.code,
                exc.status,
                headers=exc.headers,
                media=media_type(request.headers),
            )
        except HTTPException as exc:
            # Strawberry answers these in plain text; clients expect GraphQL-shaped JSON.
            response = request_error(request, exc.status_code, exc.reason)
        except Refused as exc:  # too large to read, or still running past the deadline
            if exc.ran:
                response = _error_response(exc.message, exc.code, exc.status)
            else:
                media = media_type(request.headers)
                response = error_response(exc.message, exc.code, exc.status, media=media)
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
        context: RequestContext | None = getattr(request.state, "gateway_context", None)
        if context is not None:
            context.release()  # what it read is freed now, not by the cyclic collector
            # The scope's state holds the context, which holds the request, which holds the
            # scope: without this link the request's objects go by reference counting too.
            del request.state.gateway_context

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """Strawberry's parsing, then the query a persisted-query hash or a trusted document
        id names (or :class:`DocumentRefused`). This is the one point between reading the
        body and parsing the query (``AsyncBaseHTTPView.run`` calls it, then executes)."""
        data = await super().parse_http_body(request)
        return await self.documents.resolve_http(request, data)

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        """A GET naming a document by hash or id (no ``query``) is an operation, not the page."""
        return super().should_render_graphql_ide(request) and not names_document(
            request.query_params
        )

    async def get_context(self, request: Any, response: Any) -> RequestContext:
        state = request.app.state
        request.state.sub_response = response
        context = RequestContext.create(
            state.settings,
            state.adapters,
            request,
            response,
            idempotency=state.idempotency,
            principal=principal_of(request),  # access control: who the request runs as
            record_cache=state.record_cache,  # shared by the app's requests (per process)
            graph=getattr(state, "graph", None),  # the identity index, opened by the lifespan
        )
        request.state.gateway_context = context
        return context

    def decode_json(self, data: str | bytes) -> object:
        """Malformed JSON (bad UTF-8, too deep, huge numbers, not an object) is a 400."""
        return decode_json(data)

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        """GraphQL-over-HTTP: clients that accept ``application/graphql-response+json`` get it,
        and for them a request that never executed (parse, validation, variables, limits) is a
        400 without a ``data`` entry."""
        context = getattr(request.state, "gateway_context", None)
        result.errors = finalise_errors(
            result.errors, context.degraded if context else {}, show_paths=shows_paths(context)
        )
        response = await super().process_result(request, result)
        if media_type(request.headers) == GRAPHQL_RESPONSE_JSON:
            request.state.sub_response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
            if never_executed(result):
                if not request.state.sub_response.status_code:  # keep access control's 403/429
                    request.state.sub_response.status_code = 400
                response.pop("data", None)
        return response

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
    """A GraphQL-shaped error for a request cut short while it ran (``data`` is null)."""
    return JSONResponse({"data": None, **error_body(message, code)}, status_code=status)


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
    if not access_log.isEnabledFor(logging.INFO):
        return  # a level above info: nothing to build the line for
    if request.method == "GET" and not names_document(request.query_params):
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
            "key_id": principal_of(request).key_id,
        },
    )
