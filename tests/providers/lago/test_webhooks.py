"""Lago's webhook endpoints and HMAC-signed customer webhooks: simulator and verifier."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.model import ChangeKind
from gateway.providers.lago.simulator import create_app
from gateway.providers.lago.simulator.webhooks import webhooks_of
from gateway.providers.lago.webhooks import WEBHOOKS
from gateway.providers.webhooks import WebhookRejected

KEY = "org_hmac_key_that_must_not_leak"


@pytest.fixture
def simulator() -> Starlette:
    return create_app(hmac_key=KEY)


@pytest.fixture
async def client(simulator: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=simulator)
    headers = {"Authorization": "Bearer sandbox"}
    async with httpx.AsyncClient(transport=transport, base_url="http://l", headers=headers) as c:
        yield c


def endpoint(algo: str | None = "hmac", types: list[str] | None = None) -> dict[str, object]:
    body: dict[str, object] = {"webhook_url": "http://receiver/hook", "event_types": types}
    if algo is not None:
        body["signature_algo"] = algo
    return {"webhook_endpoint": body}


async def test_customer_writes_are_delivered_signed_with_the_hmac_key(
    simulator: Starlette, client: httpx.AsyncClient
) -> None:
    got: list[tuple[bytes, dict[str, str]]] = []

    async def hook(request: Request) -> Response:
        got.append((await request.body(), dict(request.headers)))
        return JSONResponse({})

    hooks = webhooks_of(simulator)
    hooks.deliverer.transport = httpx.ASGITransport(
        app=Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    )
    created = await client.post("/api/v1/webhook_endpoints", json=endpoint())
    assert created.status_code == 200, created.text
    assert created.json()["webhook_endpoint"]["signature_algo"] == "hmac"
    assert created.json()["webhook_endpoint"]["lago_organization_id"] == hooks.organization_id

    customer = {"external_id": "ext_1", "name": "Ada", "email": "ada@x.io"}
    await client.post("/api/v1/customers", json={"customer": customer})
    await client.post("/api/v1/customers", json={"customer": customer})  # no change: no webhook
    await client.post("/api/v1/customers", json={"customer": {**customer, "name": "Ada L"}})
    await hooks.deliverer.drain()

    assert [json.loads(body)["webhook_type"] for body, _ in got] == [
        "customer.created",
        "customer.updated",
    ]
    body, headers = got[0]
    expected = base64.b64encode(hmac.new(KEY.encode(), body, hashlib.sha256).digest()).decode()
    assert headers["x-lago-signature"] == expected
    assert headers["x-lago-signature-algorithm"] == "hmac"
    assert headers["x-lago-unique-key"]
    payload = json.loads(body)
    assert payload["object_type"] == "customer"
    assert payload["organization_id"] == hooks.organization_id
    assert payload["customer"]["external_id"] == "ext_1"

    [change] = WEBHOOKS.verify(body, headers, KEY, 0.0)
    assert (change.provider, change.kind, change.record.id) == ("lago", ChangeKind.CREATED, "ext_1")
    assert change.event_id == headers["x-lago-unique-key"]
    [update] = WEBHOOKS.verify(got[1][0], got[1][1], KEY, 0.0)
    assert update.kind is ChangeKind.UPDATED and update.record.name == "Ada L"
    assert update.occurred_at >= change.occurred_at


async def test_endpoints_list_delete_and_refuse_jwt(client: httpx.AsyncClient) -> None:
    for algo in ("jwt", None):
        refused = await client.post("/api/v1/webhook_endpoints", json=endpoint(algo))
        assert refused.status_code == 422
        assert refused.json()["error_details"] == {"signature_algo": ["value_is_invalid"]}
    made = (await client.post("/api/v1/webhook_endpoints", json=endpoint())).json()
    lago_id = made["webhook_endpoint"]["lago_id"]
    listed = (await client.get("/api/v1/webhook_endpoints")).json()
    assert [e["lago_id"] for e in listed["webhook_endpoints"]] == [lago_id]
    assert listed["meta"]["total_count"] == 1
    assert (await client.delete(f"/api/v1/webhook_endpoints/{lago_id}")).status_code == 200
    assert (await client.get(f"/api/v1/webhook_endpoints/{lago_id}")).status_code == 404
    assert (await client.get("/__sandbox/webhook_secret")).json() == {"secret": KEY}


def test_bad_signatures_and_bodies_are_rejected_and_other_webhooks_ignored() -> None:
    body = json.dumps({"webhook_type": "invoice.created", "object_type": "invoice"}).encode()
    good = base64.b64encode(hmac.new(KEY.encode(), body, hashlib.sha256).digest()).decode()
    assert WEBHOOKS.verify(body, {"X-Lago-Signature": good}, KEY, 0.0) == []
    cases = [
        ({}, "missing"),
        ({"X-Lago-Signature": "bm9wZQ=="}, "does not match"),
        ({"X-Lago-Signature": good, "X-Lago-Signature-Algorithm": "jwt"}, "algorithm"),
    ]
    for headers, reason in cases:
        with pytest.raises(WebhookRejected) as caught:
            WEBHOOKS.verify(body, headers, KEY, 0.0)
        assert reason in caught.value.reason and KEY not in caught.value.reason
    broken = b'{"webhook_type": "customer.created", "customer": {}}'
    sig = base64.b64encode(hmac.new(KEY.encode(), broken, hashlib.sha256).digest()).decode()
    with pytest.raises(WebhookRejected):
        WEBHOOKS.verify(broken, {"X-Lago-Signature": sig}, KEY, 0.0)
