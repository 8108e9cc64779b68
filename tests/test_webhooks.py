"""``POST /webhooks/{provider}``: signature-authenticated, refused without a secret, handed to
the change sink, and the secret never shown."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace

import httpx
import pytest
from asgi_lifespan import LifespanManager

from gateway.config import Settings, sandbox_settings
from gateway.config.check import describe
from gateway.model import ChangeEvent
from gateway.providers.stripe_like.webhooks import signature_header
from gateway.server import create_app

SECRET = "whsec_gateway_secret_that_must_not_leak"


class Sink:
    def __init__(self, fail: bool = False) -> None:
        self.got: list[ChangeEvent] = []
        self.fail = fail

    async def __call__(self, events: Sequence[ChangeEvent]) -> None:
        if self.fail:
            raise RuntimeError("index down")
        self.got.extend(events)


def settings(**changes: object) -> Settings:
    providers = sandbox_settings()
    providers["stripe"] = replace(providers["stripe"], webhook_secret=SECRET)
    return replace(Settings(providers=providers), **changes)  # type: ignore[arg-type]


async def client_for(app_settings: Settings, sink: Sink | None) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(app_settings, change_sink=sink, adapters={})
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c,
    ):
        yield c


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
async def client(sink: Sink) -> AsyncIterator[httpx.AsyncClient]:
    async for c in client_for(settings(), sink):
        yield c


def customer_event(kind: str = "customer.created") -> bytes:
    customer = {"id": "cus_W1", "object": "customer", "email": "w@x.io"}
    body = {"id": "evt_W1", "object": "event", "type": kind, "created": int(time.time())}
    return json.dumps({**body, "data": {"object": customer}}).encode()


async def post(
    client: httpx.AsyncClient, body: bytes, secret: str = SECRET, provider: str = "stripe"
) -> httpx.Response:
    headers = signature_header(body, secret, int(time.time()))
    return await client.post(f"/webhooks/{provider}", content=body, headers=headers)


async def test_a_verified_webhook_reaches_the_sink_without_an_api_key(
    client: httpx.AsyncClient, sink: Sink
) -> None:
    response = await post(client, customer_event())
    assert response.status_code == 200, response.text
    assert response.json() == {"received": 1}
    [event] = sink.got
    assert (event.provider, event.event_id, event.record.id) == ("stripe", "evt_W1", "cus_W1")
    other = json.dumps({"id": "evt_2", "object": "event", "type": "charge.succeeded"}).encode()
    assert (await post(client, other)).json() == {"received": 0}


async def test_a_bad_signature_is_refused_and_nothing_applied(
    client: httpx.AsyncClient, sink: Sink, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        response = await post(client, customer_event(), secret="whsec_wrong")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "webhook_rejected" and "signature" in error["reason"]
    assert sink.got == []
    assert SECRET not in response.text and SECRET not in caplog.text
    unsigned = await client.post("/webhooks/stripe", content=customer_event())
    assert unsigned.status_code == 400


@pytest.mark.parametrize("provider", ["tofupay", "chartmogul", "nope"])
async def test_providers_without_a_secret_or_webhooks_are_not_found(
    client: httpx.AsyncClient, provider: str
) -> None:
    response = await post(client, customer_event(), provider=provider)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_a_body_over_the_limit_is_refused(sink: Sink) -> None:
    async for client in client_for(settings(max_body_bytes=64), sink):
        response = await post(client, customer_event())
        assert response.status_code == 413
    assert sink.got == []


async def test_without_a_sink_changes_are_acknowledged_and_logged_as_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async for client in client_for(settings(), None):
        with caplog.at_level(logging.WARNING, "customer_gateway.webhooks"):
            response = await post(client, customer_event())
    assert response.status_code == 202
    assert response.json() == {"received": 1, "dropped": True}
    assert "dropped" in caplog.text


async def test_a_failing_sink_asks_for_redelivery() -> None:
    async for client in client_for(settings(), Sink(fail=True)):
        response = await post(client, customer_event())
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "sink_failed"


def test_the_webhook_secret_stays_out_of_reprs_and_config_check() -> None:
    configured = settings()
    assert SECRET not in repr(configured.providers["stripe"])
    lines = "\n".join(describe(configured))
    assert "providers.stripe.webhook_secret = whse…(masked)" in lines
    assert SECRET not in lines
