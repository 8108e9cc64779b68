"""``/metrics``: an app's registry in the Prometheus text format (or OpenMetrics, on request).

Served on its own address (setting ``metrics_address``) by :func:`metrics_app`, not on the API
port: the gateway has no authentication yet, and metrics name providers, operations and error
rates. ``create_app(..., metrics=True)`` also mounts it on the API app, for tests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["metrics_app", "metrics_endpoint"]


def metrics_endpoint(registry: CollectorRegistry) -> Callable[[Request], Awaitable[Response]]:
    async def metrics(request: Request) -> Response:
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(registry), media_type=content_type)

    return metrics


def metrics_app(registry: CollectorRegistry) -> Starlette:
    """A small app serving only ``GET /metrics``."""
    return Starlette(routes=[Route("/metrics", metrics_endpoint(registry), methods=["GET"])])
