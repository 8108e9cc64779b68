"""Stripe-like webhook endpoints and signed delivery, checked with the official SDK."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.providers.stripe.simulator import create_app
from gateway.providers.stripe_like.simulator import customer_api

AUTH = {"Authorization": "Bearer sk_test_sandbox"}


class Receiver:
    """A webhook receiver recording what it got; answers ``statuses`` in turn, then 200."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.got: list[tuple[bytes, dict[str, str]]] = []
        self.statuses = statuses or []
        self.app = Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])

    async def hook(self, request: Request) -> Response:
        self.got.append((await request.body(), dict(request.headers)))
        status = self.statuses.pop(0) if self.statuses else 200
        return JSONResponse({}, status_code=status)


@pytest.fixture
def simulator() -> Starlette:
    return create_app()


@pytest.fixture
async def client(simulator: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=simulator)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim", headers=AUTH) as c:
        yield c


async def register(client: httpx.AsyncClient, *events: str) -> dict[str, Any]:
    form = {"url": "http://receiver/hook", "enabled_events[]": list(events)}
    response = await client.post("/v1/webhook_endpoints", data=form)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def deliver_to(simulator: Starlette, receiver: Receiver) -> None:
    deliverer = customer_api(simulator).events.deliverer
    deliverer.transport = httpx.ASGITransport(app=receiver.app)
    deliverer.backoff = 0.001


async def test_a_created_customer_is_delivered_signed_as_stripe_signs(
    simulator: Starlette, client: httpx.AsyncClient
) -> None:
    receiver = Receiver()
    deliver_to(simulator, receiver)
    endpoint = await register(client, "customer.created", "customer.updated")
    assert endpoint["id"].startswith("we_") and endpoint["secret"].startswith("whsec_")
    assert endpoint["object"] == "webhook_endpoint" and endpoint["status"] == "enabled"
    assert endpoint["enabled_events"] == ["customer.created", "customer.updated"]

    created = (await client.post("/v1/customers", data={"email": "a@example.com"})).json()
    await client.delete(f"/v1/customers/{created['id']}")  # not subscribed: not sent
    await customer_api(simulator).events.deliverer.drain()

    [(body, headers)] = receiver.got
    event = stripe.Webhook.construct_event(
        body.decode(), headers["stripe-signature"], endpoint["secret"]
    )
    assert event["type"] == "customer.created"
    assert event["data"]["object"]["id"] == created["id"]
    assert json.loads(body)["pending_webhooks"] == 1
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body.decode(), headers["stripe-signature"], "whsec_other")


async def test_endpoints_are_listed_without_secrets_and_deleted(
    client: httpx.AsyncClient,
) -> None:
    first = await register(client, "*")
    second = await register(client, "customer.*")
    listed = (await client.get("/v1/webhook_endpoints")).json()
    assert [e["id"] for e in listed["data"]] == [second["id"], first["id"]]
    assert all("secret" not in e for e in listed["data"])
    assert (await client.get(f"/v1/webhook_endpoints/{first['id']}")).json()["url"] == (
        "http://receiver/hook"
    )
    gone = await client.delete(f"/v1/webhook_endpoints/{first['id']}")
    assert gone.json() == {"id": first["id"], "object": "webhook_endpoint", "deleted": True}
    assert (await client.get(f"/v1/webhook_endpoints/{first['id']}")).status_code == 404
    refused = await client.post("/v1/webhook_endpoints", data={"url": "http://x/hook"})
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "enabled_events"


async def test_a_failing_receiver_is_retried_then_given_up_without_failing_the_api(
    simulator: Starlette, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = Receiver(statuses=[500, 503, 500, 500, 500])
    deliver_to(simulator, receiver)
    await register(client, "customer.*")
    created = await client.post("/v1/customers", data={"email": "a@example.com"})
    assert created.status_code == 200
    with caplog.at_level(logging.WARNING, "customer_gateway.sandbox.webhooks"):
        await customer_api(simulator).events.deliverer.drain()
    deliverer = customer_api(simulator).events.deliverer
    assert len(receiver.got) == deliverer.attempts
    [delivery] = deliverer.log
    assert (delivery.status, delivery.attempts) == (500, deliverer.attempts)
    assert "given up" in caplog.text


async def test_a_receiver_that_recovers_gets_the_event_once(
    simulator: Starlette, client: httpx.AsyncClient
) -> None:
    receiver = Receiver(statuses=[503])
    deliver_to(simulator, receiver)
    await register(client, "customer.created")
    await client.post("/v1/customers", data={"email": "a@example.com"})
    await customer_api(simulator).events.deliverer.drain()
    assert len(receiver.got) == 2
    assert customer_api(simulator).events.deliverer.log[0].status == 200
    admin = (await client.get("/__sandbox/webhooks")).json()
    assert admin["deliveries"][0]["attempts"] == 2
    assert "secret" not in json.dumps(admin["endpoints"])
