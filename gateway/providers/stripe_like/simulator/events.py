"""Stripe's Events API for customers, and the webhook deliveries each event starts.

Every customer create, update and delete made through the API (not seeding) records an event
(``customer.created``/``updated``/``deleted``) shaped as Stripe's: ``data.object`` is the
customer as the API returned it (for a delete, the customer as it was, as Stripe sends it),
``data.previous_attributes`` on updates holds the old values of the changed fields (for a
hash such as ``metadata``, only its changed keys, ``null`` for keys that were added). An update
that changes nothing records no event.

``GET /v1/events`` lists them newest first with Stripe's list semantics (``limit``,
``starting_after``, ``ending_before``, ``type`` with ``*`` wildcards, ``types[]`` (at most 20,
not with ``type``), ``created`` and ``created[gt|gte|lt|lte]``); events older than 30 days are
no longer listed or retrievable, as at Stripe. ``GET /v1/events/{id}`` retrieves one.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.providers.stripe_like.simulator.errors import JSON, ApiError
from gateway.providers.stripe_like.simulator.paging import paginate
from gateway.providers.stripe_like.simulator.params import (
    check_known,
    created_bounds,
    cursor_param,
    parse_limit,
    query_params,
    string_param,
)
from gateway.providers.stripe_like.simulator.store import generate_id
from gateway.providers.stripe_like.webhooks import signature_header
from gateway.sandbox.webhooks import WebhookDeliverer

RETENTION: Final = 30 * 24 * 3600.0
"""Seconds Stripe keeps events listed and retrievable."""
MAX_TYPES: Final = 20
LIST_PARAMS: Final = frozenset(
    {"limit", "starting_after", "ending_before", "type", "types", "created", "delivery_success"}
)


def missing_event(event_id: str, param: str = "id", status: int = 404) -> ApiError:
    return ApiError(status, f"No such event: '{event_id}'", code="resource_missing", param=param)


def previous_attributes(old: Mapping[str, Any], new: Mapping[str, Any]) -> JSON:
    """Stripe's ``previous_attributes``: old values of what changed (hashes key by key)."""
    out: JSON = {}
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if isinstance(before, dict) and isinstance(after, dict):
            out[key] = {
                k: copy.deepcopy(before.get(k))
                for k in sorted(before.keys() | after.keys())
                if before.get(k) != after.get(k)
            }
        else:
            out[key] = copy.deepcopy(before)
    return out


@dataclass(slots=True)
class EventLog:
    """A simulator's events, oldest first, and the deliverer that sends them to endpoints."""

    api_version: str | None
    clock: Callable[[], float] = time.time
    deliverer: WebhookDeliverer = field(
        default_factory=lambda: WebhookDeliverer(sign=signature_header)
    )
    events: list[JSON] = field(default_factory=list)
    by_id: dict[str, JSON] = field(default_factory=dict)

    def record(
        self,
        event_type: str,
        obj: Mapping[str, Any],
        request: Request,
        *,
        previous: Mapping[str, Any] | None = None,
    ) -> JSON:
        """Record an event for ``obj`` and start its deliveries (never waiting on them)."""
        data: JSON = {"object": copy.deepcopy(dict(obj))}
        if previous is not None:
            data["previous_attributes"] = previous_attributes(previous, obj)
        event: JSON = {
            "id": generate_id("evt_", 24),
            "object": "event",
            "api_version": self.api_version,
            "created": int(self.clock()),
            "data": data,
            "livemode": False,
            "pending_webhooks": len(self.deliverer.subscribed(event_type)),
            "request": {
                "id": getattr(request.state, "request_id", None),
                "idempotency_key": request.headers.get("idempotency-key"),
            },
            "type": event_type,
        }
        self.events.append(event)
        self.by_id[event["id"]] = event
        self.deliverer.deliver(event_type, json.dumps(event).encode())
        return event

    def listed(self) -> list[JSON]:
        """Events still within the retention window, newest first."""
        horizon = self.clock() - RETENTION
        return [e for e in reversed(self.events) if e["created"] >= horizon]

    def get(self, event_id: str) -> JSON:
        event = self.by_id.get(event_id)
        if event is None or event["created"] < self.clock() - RETENTION:
            raise missing_event(event_id)
        return event


def _type_filter(params: Mapping[str, Any]) -> Callable[[JSON], bool]:
    if "type" in params and "types" in params:
        raise ApiError(
            400, "You may only specify one of these parameters: type, types.", param="types"
        )
    if "type" in params:
        patterns = [string_param(params, "type") or ""]
    elif "types" in params:
        types = params["types"]
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise ApiError(400, "Invalid array: types must be an array of strings.", param="types")
        if len(types) > MAX_TYPES:
            raise ApiError(400, f"types can hold at most {MAX_TYPES} event types.", param="types")
        patterns = types
    else:
        return lambda event: True
    return lambda event: any(fnmatch.fnmatchcase(event["type"], p) for p in patterns)


async def list_events(request: Request, log: EventLog) -> Response:
    params = query_params(request)
    check_known(params, LIST_PARAMS)
    limit = parse_limit(params)
    wanted = _type_filter(params)
    bounds = created_bounds(params["created"]) if "created" in params else []

    def include(event: JSON) -> bool:
        return wanted(event) and all(test(event["created"]) for test in bounds)

    page, has_more = paginate(
        log.listed(),
        lambda event: str(event["id"]),
        include,
        limit=limit,
        starting_after=cursor_param(params, "starting_after"),
        ending_before=cursor_param(params, "ending_before"),
        missing=missing_event,
    )
    return JSONResponse({"object": "list", "url": "/v1/events", "has_more": has_more, "data": page})


async def retrieve_event(request: Request, log: EventLog) -> Response:
    return JSONResponse(log.get(request.path_params["id"]))
