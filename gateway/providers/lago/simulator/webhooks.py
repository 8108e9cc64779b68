"""Lago's webhook endpoints and signed customer webhooks, in the simulator.

``POST /api/v1/webhook_endpoints`` (``{"webhook_endpoint": {"webhook_url", "signature_algo",
"name", "event_types"}}``), ``GET`` (paged, with ``meta``), ``GET``/``DELETE
/api/v1/webhook_endpoints/{lago_id}``. ``event_types`` null means every type. Only
``signature_algo: hmac`` is simulated: ``jwt``, and an absent value (Lago then signs with JWT),
are refused 422 ``{"signature_algo": ["value_is_invalid"]}``.

Every customer create or update through the API (``POST /api/v1/customers``, Lago's upsert)
sends ``customer.created`` / ``customer.updated`` as ``{"webhook_type", "object_type":
"customer", "organization_id", "customer"}`` (the OpenAPI document requires
``organization_id`` on created only; it is sent on both) with ``X-Lago-Signature`` keyed by the
organization's HMAC key. Lago shows that key only in its UI; the simulator takes it as
``hmac_key`` and serves it on the admin route ``GET /__sandbox/webhook_secret`` (``{"secret":
...}``), which the sandbox wiring reads as the UI would be read.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.providers.lago.simulator.errors import error_body, invalid_body
from gateway.providers.lago.simulator.shape import iso
from gateway.providers.lago.webhooks import UNIQUE_KEY_HEADER, WEBHOOK_ENDPOINTS, sign
from gateway.sandbox.base import ADMIN_PREFIX
from gateway.sandbox.webhooks import Endpoint, WebhookDeliverer, admin_routes

SANDBOX_HMAC_KEY: Final = "sandbox_hmac_key"
"""The organization's HMAC key unless the simulator is given another."""


@dataclass(slots=True)
class LagoWebhooks:
    """One organization's endpoints and deliveries, at ``app.state.webhooks``."""

    hmac_key: str = field(default=SANDBOX_HMAC_KEY, repr=False)
    organization_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    deliverer: WebhookDeliverer = field(default_factory=lambda: WebhookDeliverer(sign=sign))
    details: dict[str, dict[str, Any]] = field(default_factory=dict)

    def send(self, webhook_type: str, customer: dict[str, Any]) -> None:
        """Deliver a customer webhook to the endpoints subscribed to it (in the background)."""
        body = {
            "webhook_type": webhook_type,
            "object_type": "customer",
            "organization_id": self.organization_id,
            "customer": customer,
        }
        self.deliverer.deliver(
            webhook_type, json.dumps(body).encode(), {UNIQUE_KEY_HEADER: str(uuid.uuid4())}
        )

    def render(self, endpoint: Endpoint) -> dict[str, Any]:
        return {
            "lago_id": endpoint.id,
            "lago_organization_id": self.organization_id,
            "webhook_url": endpoint.url,
            "created_at": iso(datetime.fromtimestamp(endpoint.created, UTC)),
            **self.details.get(endpoint.id, {}),
        }


def webhooks_of(app: Starlette) -> LagoWebhooks:
    found: LagoWebhooks = app.state.webhooks
    return found


def _invalid(field_name: str, code: str) -> Response:
    return JSONResponse(invalid_body({field_name: [code]}), status_code=422)


async def endpoints(request: Request) -> Response:
    hooks = webhooks_of(request.app)
    if request.method == "GET":
        listed = list(reversed(hooks.deliverer.endpoints.values()))
        total = len(listed)
        meta = {
            "current_page": 1 if total else 0,
            "next_page": None,
            "prev_page": None,
            "total_pages": math.ceil(total / 100) if total else 0,
            "total_count": total,
        }
        return JSONResponse(
            {"webhook_endpoints": [hooks.render(e) for e in listed[:100]], "meta": meta}
        )
    try:
        body = json.loads(await request.body() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return JSONResponse(error_body(400, "invalid JSON body"), status_code=400)
    params = body.get("webhook_endpoint") if isinstance(body, dict) else None
    if not isinstance(params, dict):
        message = "param is missing or the value is empty: webhook_endpoint"
        return JSONResponse(error_body(400, message), status_code=400)
    url = params.get("webhook_url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return _invalid("webhook_url", "url_is_invalid")
    if params.get("signature_algo") != "hmac":
        return _invalid("signature_algo", "value_is_invalid")
    types = params.get("event_types")
    if types is not None and not (
        isinstance(types, list) and all(isinstance(t, str) for t in types)
    ):
        return _invalid("event_types", "value_is_invalid")
    endpoint = hooks.deliverer.add(url, types, endpoint_id=str(uuid.uuid4()), secret=hooks.hmac_key)
    hooks.details[endpoint.id] = {
        "signature_algo": "hmac",
        "name": params.get("name") if isinstance(params.get("name"), str) else None,
        "event_types": types,
    }
    return JSONResponse({"webhook_endpoint": hooks.render(endpoint)})


async def one_endpoint(request: Request) -> Response:
    hooks = webhooks_of(request.app)
    lago_id = request.path_params["lago_id"]
    endpoint = hooks.deliverer.endpoints.get(lago_id)
    if endpoint is None:
        return JSONResponse(error_body(404, "webhook_endpoint_not_found"), status_code=404)
    rendered = hooks.render(endpoint)
    if request.method == "DELETE":
        hooks.deliverer.remove(lago_id)
        hooks.details.pop(lago_id, None)
    return JSONResponse({"webhook_endpoint": rendered})


def webhook_routes(hooks: LagoWebhooks) -> list[BaseRoute]:
    async def secret(request: Request) -> Response:
        return JSONResponse({"secret": hooks.hmac_key})

    return [
        Route(WEBHOOK_ENDPOINTS, endpoints, methods=["GET", "POST"]),
        Route(f"{WEBHOOK_ENDPOINTS}/{{lago_id}}", one_endpoint, methods=["GET", "DELETE"]),
        Route(f"{ADMIN_PREFIX}/webhook_secret", secret, methods=["GET"]),
        *admin_routes(hooks.deliverer),
    ]
