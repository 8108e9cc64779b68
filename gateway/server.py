"""The gateway's ASGI app: GraphQL (with GraphiQL) on Starlette, adapters owned by the lifespan."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
from opentelemetry.trace import TracerProvider
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from gateway.auth.control import access_control
from gateway.config import Settings
from gateway.core.graph import IdentityGraph
from gateway.core.record_cache import RecordCache
from gateway.documents import PersistedDocuments
from gateway.graphiql import STATIC_PATH, static_files
from gateway.graphql_view import GatewayGraphQL
from gateway.heap import freeze_startup_heap, space_young_collections
from gateway.http_errors import (
    EXCEPTION_HANDLERS,
)
from gateway.index.cached import CachedIndex
from gateway.index.contract import IdentityIndex
from gateway.index.lease import index_lease
from gateway.providers.contract import ChangeSink, ProviderAdapter
from gateway.providers.health import circuit_state, readiness
from gateway.providers.registry import build_adapters
from gateway.request_id import HEADER as REQUEST_ID_HEADER
from gateway.request_id import RequestIdMiddleware
from gateway.shared import SharedState
from gateway.sync import SyncRunner
from gateway.sync.leader import SyncLeader, lease_interval
from gateway.sync.status import Listener, ProviderSyncStatus, SyncState
from gateway.telemetry.app import Telemetry
from gateway.telemetry.exposition import metrics_endpoint
from gateway.telemetry.operations import OperationTelemetry
from gateway.webhooks import configured_secrets
from gateway.webhooks import route as webhook_route
from gateway.writes.idempotency import IdempotencyStore
from gateway.writes.outcomes import MutationResult
from resolvers.schema import build_schema

logger = logging.getLogger("customer_gateway.server")


def _synced(graph: IdentityGraph) -> Listener:
    """Reads go to the index as soon as the sync completes a provider, not at the next check."""

    def listen(status: ProviderSyncStatus) -> None:
        if status.state is SyncState.COMPLETE:
            graph.mark_synced(status.provider)

    return listen


def create_app(
    settings: Settings,
    *,
    adapters: Mapping[str, ProviderAdapter] | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    graphiql: bool = True,
    metrics: bool = False,
    tracer_provider: TracerProvider | None = None,
    index: IdentityIndex | None = None,
    open_index: bool = False,
    change_sink: ChangeSink | None = None,
    freeze_heap: bool = False,
) -> Starlette:
    """The gateway app. Without ``adapters``, the lifespan builds one per enabled provider
    (one pooled HTTP client each) and closes them on shutdown.

    Identity: reads and writes use the identity ``index`` (the caller's, who closes it), or with
    ``open_index`` the configured one (``serve``: opened and migrated by the lifespan, closed
    on shutdown); with neither, identity is resolved live on every read. With an index and
    ``settings.sync.enabled`` the lifespan runs the sync in the background (``app.state.sync``,
    a :class:`~gateway.sync.SyncRunner`) while this process holds the index's sync lease
    (``app.state.sync_leader``, gateway/sync/leader.py: one process per index syncs, the
    others stand by and take over), and ``/healthz`` reports it.

    Telemetry (docs/operations.md): the app's metrics live in ``app.state.telemetry``, served
    on the API itself only with ``metrics=True`` (tests; ``serve`` uses a separate address).
    Traces go to ``tracer_provider``, or as the ``OTEL_*`` variables configure (off by default).

    Providers' signed webhooks (``POST /webhooks/<provider>``, gateway/webhooks.py) go to
    ``change_sink`` (``app.state.change_sink``; none: acknowledged and dropped); their secrets
    are ``app.state.webhook_secrets`` (from settings; the sandbox wiring adds its own).

    ``freeze_heap`` (``serve``): once started, the process's heap so far is frozen out of the
    cyclic collector's walks and young collections are spaced out (gateway/heap.py); not for
    apps made and dropped, as in tests.
    """
    telemetry = (
        Telemetry(tracer_provider=tracer_provider)
        if tracer_provider is not None
        else Telemetry.from_env()
    )
    # State shared with the other replicas on Redis (gateway/shared), when configured.
    shared = SharedState(settings, telemetry.metrics) if settings.redis_url else None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = adapters is None
        app.state.adapters = (
            build_adapters(settings, transports=transports, telemetry=telemetry.upstream)
            if owned
            else dict(adapters or {})
        )
        if shared is not None:
            shared.attach(app.state.adapters, app.state.record_cache)
            await shared.start()
        opened = None
        if open_index and index is None:
            from gateway.index.factory import open_configured_index  # SQLAlchemy, when used

            opened = await open_configured_index(settings)
        graph_index = index if index is not None else opened
        lease = index_lease(graph_index)  # the index's own, before any cache wraps it
        if graph_index is not None and settings.identity_cache_ttl > 0:
            # Reads and the sync share it, so every write of this process empties it.
            graph_index = CachedIndex(graph_index, ttl=settings.identity_cache_ttl)
        app.state.graph = (
            IdentityGraph(graph_index, settings.identity) if graph_index is not None else None
        )
        runner: SyncRunner | None = None
        leader: SyncLeader | None = None
        if graph_index is not None and settings.sync.enabled:
            runner = SyncRunner(
                graph_index, app.state.adapters, settings, listener=_synced(app.state.graph)
            )
            # One process per index runs it; the others stand by (gateway/sync/leader.py).
            leader = SyncLeader(runner, lease, interval=lease_interval(settings.sync))
            await leader.start()
            if app.state.change_sink is None:  # verified webhooks go into the index, standby too
                app.state.change_sink = runner.sink
        app.state.sync = runner
        app.state.sync_leader = leader
        if freeze_heap:
            frozen = freeze_startup_heap()
            logger.debug("froze %d start-up objects out of the cyclic collector's walks", frozen)
            space_young_collections()
        try:
            yield
        finally:
            if leader is not None:
                await leader.aclose()
            if opened is not None:
                await opened.aclose()
            if shared is not None:
                await shared.aclose()
            if owned:
                for adapter in app.state.adapters.values():
                    await adapter.aclose()
            await telemetry.aclose()

    access = access_control(settings)  # refuses live mode without credentials (ConfigError)
    graphiql = graphiql and access.graphiql  # off in live mode unless auth.graphiql
    graphql_app = GatewayGraphQL(
        build_schema(settings.federation_version),
        # APQ store and trusted documents, per app (per process): docs/security.md
        documents=PersistedDocuments.from_settings(settings),
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
        body: dict[str, Any] = {
            "status": "ok",
            "sandbox": settings.sandbox,
            "providers": sorted(circuits),
            "circuits": circuits,
        }
        leader: SyncLeader | None = getattr(request.app.state, "sync_leader", None)
        if leader is not None:
            body["sync"] = await leader.status()
        return JSONResponse(body)

    async def ready(request: Request) -> Response:
        """Readiness: 200 while at least one provider is usable (circuit not open, key not
        rejected), else 503 with the same body, so a load balancer routes elsewhere. With
        Redis configured, ``redis`` says whether it is up; down, the gateway still serves (on
        in-process fallbacks), so it stays ready."""
        ok, providers = readiness(request.app.state.adapters)
        body: dict[str, Any] = {
            "status": "ready" if ok else "not_ready",
            "sandbox": settings.sandbox,
        }
        if shared is not None:
            body["redis"] = await shared.readiness()
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
    graphql_route = Route(
        "/graphql", OperationTelemetry(graphql_app, telemetry), methods=["GET", "POST"]
    )
    # [i9-http] Starlette adds HEAD to GET routes, but Strawberry has no HEAD: a 405 like PUT.
    graphql_route.methods = {"GET", "POST"}
    routes: list[BaseRoute] = [
        # First: the router tries each route's pattern in turn, and nearly every request is
        # for /graphql.
        graphql_route,
        Route("/", root),
        Route("/healthz", health),
        Route("/readyz", ready),
        # Authenticated by signature, not by the GraphQL view's access control.
        webhook_route(),
    ]
    if metrics:
        routes.append(Route("/metrics", metrics_endpoint(telemetry.metrics.registry)))
    if graphiql:
        routes.append(Mount(STATIC_PATH, static_files(), name="graphiql-static"))
    app = Starlette(
        middleware=middleware,
        routes=routes,
        lifespan=lifespan,
        # [i9-http] 404, 405 and a client hanging up mid-body: GraphQL JSON, no traceback.
        exception_handlers=EXCEPTION_HANDLERS,
    )
    app.state.settings = settings
    app.state.telemetry = telemetry
    app.state.access = access
    app.state.shared = shared
    # Mutation idempotency keys: in Redis with the other replicas, else for the life of the
    # process (docs/writes.md).
    app.state.idempotency = (
        shared.idempotency if shared is not None else IdempotencyStore[MutationResult]()
    )
    # Lookup answers shared by the app's requests (gateway/core/record_cache.py), in front of
    # Redis's when configured; each provider's cache_ttl turns it on (0, the default, sends
    # every read upstream).
    app.state.record_cache = RecordCache.from_settings(
        settings, telemetry.metrics, shared.cache if shared is not None else None
    )
    app.state.webhook_secrets = configured_secrets(settings)
    app.state.change_sink = change_sink
    return app
