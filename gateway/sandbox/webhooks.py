"""Webhook delivery for every simulator: registered endpoints, signed POSTs, bounded retries.

A simulator keeps one :class:`WebhookDeliverer` with its provider's signing scheme (a
:data:`Signer`: Stripe's ``Stripe-Signature``, Lago's ``X-Lago-Signature``). After a change it
calls :meth:`WebhookDeliverer.deliver` with the event's type and JSON body; each enabled
endpoint subscribed to that type gets the body POSTed in a background task, so the API answer
never waits on a receiver. A failed attempt (connection error or non-2xx) is retried a few
times with a short backoff, then logged and given up; nothing is ever raised to the route.

Admin route (no auth, like every ``/__sandbox`` route), mounted by :func:`admin_routes`:
``GET /__sandbox/webhooks`` lists the endpoints (secrets left out) and the delivery log.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Final

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.sandbox.base import ADMIN_PREFIX

__all__ = [
    "DELIVERY_ATTEMPTS",
    "Delivery",
    "Endpoint",
    "Signer",
    "WebhookDeliverer",
    "admin_routes",
]

logger = logging.getLogger("customer_gateway.sandbox.webhooks")

DELIVERY_ATTEMPTS: Final = 4
"""Attempts per event and endpoint (the real providers retry for days; a sandbox need not)."""
DELIVERY_BACKOFF: Final = 0.25
"""Seconds before the first retry, doubling after each."""
DELIVERY_TIMEOUT: Final = 5.0

Signer = Callable[[bytes, str, int], Mapping[str, str]]
"""``(body, secret, unix time) -> headers`` carrying the provider's signature."""


@dataclass(slots=True)
class Endpoint:
    """One registered receiver; ``events`` ``None`` means every event type."""

    id: str
    url: str
    secret: str
    events: tuple[str, ...] | None
    created: int
    enabled: bool = True

    def wants(self, event_type: str) -> bool:
        """Whether this endpoint is sent ``event_type`` (``*`` and ``customer.*`` patterns)."""
        if not self.enabled:
            return False
        if self.events is None:
            return True
        return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in self.events)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One finished delivery: the last attempt's status (``None``: no answer) and attempts."""

    endpoint_id: str
    event_type: str
    status: int | None
    attempts: int
    at: float


@dataclass(slots=True)
class WebhookDeliverer:
    """A simulator's endpoints and its background deliveries (see the module docstring)."""

    sign: Signer
    transport: httpx.AsyncBaseTransport | None = None
    """Where deliveries go (tests hand an ASGI transport); default: the network."""
    attempts: int = DELIVERY_ATTEMPTS
    backoff: float = DELIVERY_BACKOFF
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    log: list[Delivery] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def add(
        self, url: str, events: Collection[str] | None, *, endpoint_id: str, secret: str
    ) -> Endpoint:
        """Register ``url`` under the provider's id (``we_…``, a uuid…) and signing secret."""
        endpoint = Endpoint(
            endpoint_id, url, secret, None if events is None else tuple(events), int(time.time())
        )
        self.endpoints[endpoint_id] = endpoint
        return endpoint

    def remove(self, endpoint_id: str) -> Endpoint | None:
        return self.endpoints.pop(endpoint_id, None)

    def subscribed(self, event_type: str) -> list[Endpoint]:
        return [e for e in self.endpoints.values() if e.wants(event_type)]

    def deliver(
        self, event_type: str, body: bytes, headers: Mapping[str, str] | None = None
    ) -> int:
        """Send ``body`` to every endpoint wanting ``event_type`` in the background; returns
        how many deliveries started. Outside a running event loop nothing is sent."""
        targets = self.subscribed(event_type)
        if not targets:
            return 0
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return 0
        for endpoint in targets:
            task = loop.create_task(self._send(endpoint, event_type, body, dict(headers or {})))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(targets)

    async def drain(self) -> None:
        """Wait for the deliveries in flight (tests; a stopping simulator)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _send(
        self, endpoint: Endpoint, event_type: str, body: bytes, headers: dict[str, str]
    ) -> None:
        status: int | None = None
        attempt = 0
        async with httpx.AsyncClient(transport=self.transport, timeout=DELIVERY_TIMEOUT) as client:
            for attempt in range(1, self.attempts + 1):
                signed = {
                    "Content-Type": "application/json",
                    **headers,
                    **self.sign(body, endpoint.secret, int(time.time())),
                }
                try:
                    response = await client.post(endpoint.url, content=body, headers=signed)
                    status = response.status_code
                except httpx.HTTPError as exc:
                    status = None
                    logger.info("webhook to %s failed: %s", endpoint.url, exc)
                if status is not None and 200 <= status < 300:
                    break
                if attempt < self.attempts:
                    await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            else:
                logger.warning(
                    "webhook %s to %s given up after %d attempts (last status %s)",
                    event_type,
                    endpoint.url,
                    attempt,
                    status,
                )
        self.log.append(Delivery(endpoint.id, event_type, status, attempt, time.time()))


def admin_routes(deliverer: WebhookDeliverer) -> list[BaseRoute]:
    """``GET /__sandbox/webhooks``: endpoints (no secrets) and finished deliveries."""

    async def listing(request: Request) -> Response:
        return JSONResponse(
            {
                "endpoints": [
                    {"id": e.id, "url": e.url, "events": e.events, "enabled": e.enabled}
                    for e in deliverer.endpoints.values()
                ],
                "deliveries": [
                    {
                        "endpoint": d.endpoint_id,
                        "type": d.event_type,
                        "status": d.status,
                        "attempts": d.attempts,
                        "at": d.at,
                    }
                    for d in deliverer.log
                ],
            }
        )

    return [Route(f"{ADMIN_PREFIX}/webhooks", listing, methods=["GET"])]
