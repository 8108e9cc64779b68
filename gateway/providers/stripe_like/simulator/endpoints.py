"""Stripe's ``/v1/webhook_endpoints``: register, list, retrieve and delete receivers.

``POST`` takes ``url`` and ``enabled_events[]`` (required; ``*`` or event types, wildcards such
as ``customer.*`` allowed), plus ``description``, ``metadata`` and ``api_version``; its answer
alone carries the signing ``secret`` (``whsec_…``), as Stripe's does. Test mode accepts
``http://`` URLs (the sandbox's receivers are on loopback).
"""

from __future__ import annotations

import secrets
from typing import Any, Final
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.providers.stripe_like.simulator.errors import JSON, ApiError, missing_parameter
from gateway.providers.stripe_like.simulator.events import EventLog
from gateway.providers.stripe_like.simulator.paging import paginate
from gateway.providers.stripe_like.simulator.params import (
    check_known,
    cursor_param,
    form_params,
    merge_metadata,
    parse_limit,
    query_params,
    string_param,
)
from gateway.providers.stripe_like.simulator.store import generate_id
from gateway.sandbox.webhooks import Endpoint

PATH: Final = "/v1/webhook_endpoints"
CREATE_PARAMS: Final = frozenset(
    {"url", "enabled_events", "description", "metadata", "api_version", "connect", "expand"}
)


def missing_endpoint(endpoint_id: str, param: str = "id", status: int = 404) -> ApiError:
    return ApiError(
        status,
        f"No such webhook endpoint: '{endpoint_id}'",
        code="resource_missing",
        param=param,
    )


def endpoint_object(endpoint: Endpoint, extra: JSON) -> JSON:
    """The webhook endpoint object, without its secret."""
    return {
        "id": endpoint.id,
        "object": "webhook_endpoint",
        "application": None,
        "created": endpoint.created,
        "enabled_events": list(endpoint.events or ("*",)),
        "livemode": False,
        "status": "enabled" if endpoint.enabled else "disabled",
        "url": endpoint.url,
        **extra,
    }


def _events_param(params: JSON) -> list[str]:
    if "enabled_events" not in params:
        raise missing_parameter("enabled_events")
    events = params["enabled_events"]
    if isinstance(events, str):
        events = [events]
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise ApiError(
            400, "Invalid array: enabled_events must be event types.", param="enabled_events"
        )
    return list(events)


def _url_param(params: JSON) -> str:
    if "url" not in params:
        raise missing_parameter("url")
    url = string_param(params, "url") or ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ApiError(400, f"Invalid URL: {url}", param="url")
    return url


async def create_endpoint(request: Request, log: EventLog, details: dict[str, JSON]) -> Response:
    params = form_params(await request.body())
    check_known(params, CREATE_PARAMS)
    url, events = _url_param(params), _events_param(params)
    secret = "whsec_" + secrets.token_urlsafe(24)
    endpoint = log.deliverer.add(
        url,
        None if "*" in events else events,
        endpoint_id=generate_id("we_", 24),
        secret=secret,
    )
    extra: dict[str, Any] = {
        "api_version": string_param(params, "api_version") if "api_version" in params else None,
        "description": string_param(params, "description") if "description" in params else None,
        "metadata": merge_metadata({}, params["metadata"]) if "metadata" in params else {},
    }
    details[endpoint.id] = extra
    return JSONResponse({**endpoint_object(endpoint, extra), "secret": secret})


async def list_endpoints(request: Request, log: EventLog, details: dict[str, JSON]) -> Response:
    params = query_params(request)
    check_known(params, {"limit", "starting_after", "ending_before", "expand"})
    newest_first = list(reversed(log.deliverer.endpoints.values()))
    page, has_more = paginate(
        newest_first,
        lambda e: e.id,
        lambda e: True,
        limit=parse_limit(params),
        starting_after=cursor_param(params, "starting_after"),
        ending_before=cursor_param(params, "ending_before"),
        missing=missing_endpoint,
    )
    data = [endpoint_object(e, details.get(e.id, {})) for e in page]
    return JSONResponse({"object": "list", "url": PATH, "has_more": has_more, "data": data})


async def one_endpoint(request: Request, log: EventLog, details: dict[str, JSON]) -> Response:
    endpoint_id = request.path_params["id"]
    endpoint = log.deliverer.endpoints.get(endpoint_id)
    if endpoint is None:
        raise missing_endpoint(endpoint_id)
    if request.method == "DELETE":
        log.deliverer.remove(endpoint_id)
        details.pop(endpoint_id, None)
        return JSONResponse({"id": endpoint_id, "object": "webhook_endpoint", "deleted": True})
    return JSONResponse(endpoint_object(endpoint, details.get(endpoint_id, {})))
