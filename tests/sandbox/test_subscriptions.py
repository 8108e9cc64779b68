"""The sandbox kept live: the gateway subscribes to the real sandbox cluster's webhooks, and a
customer created through a simulator's API reaches its change sink, verified."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
from asgi_lifespan import LifespanManager

from gateway.config import Settings
from gateway.model import ChangeEvent, ChangeKind
from gateway.sandbox.cluster import SandboxCluster
from gateway.sandbox.dataset import generate
from gateway.sandbox.runner import LoopbackServer
from gateway.sandbox.subscriptions import reachable_url, subscribe_gateway
from gateway.server import create_app
from tests.conftest import eventually


class RecordingSink:
    def __init__(self) -> None:
        self.got: list[ChangeEvent] = []

    async def __call__(self, events: Sequence[ChangeEvent]) -> None:
        self.got.extend(events)


def test_wildcard_listen_addresses_are_reached_on_loopback() -> None:
    assert reachable_url("http://0.0.0.0:8000") == "http://127.0.0.1:8000"
    assert reachable_url("http://[::]:8000") == "http://[::1]:8000"
    assert reachable_url("http://127.0.0.1:9") == "http://127.0.0.1:9"


async def test_a_customer_created_in_a_simulator_reaches_the_sink() -> None:
    cluster = SandboxCluster.from_dataset(generate(seed=3, customers=5))
    await cluster.start("127.0.0.1", 0)
    try:
        providers = cluster.provider_settings()
        sink = RecordingSink()
        app = create_app(Settings(providers=providers), change_sink=sink)
        async with LifespanManager(app), LoopbackServer(app) as gateway:
            secrets = await subscribe_gateway(providers, gateway.url)
            assert sorted(secrets) == ["lago", "stripe", "tofupay"]
            assert secrets["stripe"].startswith("whsec_")
            app.state.webhook_secrets.update(secrets)

            stripe = providers["stripe"]
            async with httpx.AsyncClient(
                base_url=stripe.base_url, headers={"Authorization": f"Bearer {stripe.api_key}"}
            ) as client:
                created = await client.post("/v1/customers", data={"email": "live@x.io"})
            customer_id = created.json()["id"]
            await eventually(lambda: any(e.record.id == customer_id for e in sink.got))

            lago = providers["lago"]
            async with httpx.AsyncClient(
                base_url=lago.base_url, headers={"Authorization": f"Bearer {lago.api_key}"}
            ) as client:
                body = {"customer": {"external_id": "live_1", "name": "Live"}}
                assert (await client.post("/api/v1/customers", json=body)).status_code == 200
            await eventually(lambda: any(e.record.id == "live_1" for e in sink.got))
    finally:
        await cluster.stop()
    [event] = [e for e in sink.got if e.record.id == customer_id]
    assert (event.provider, event.kind, event.record.email) == (
        "stripe",
        ChangeKind.CREATED,
        "live@x.io",
    )
    [lago_event] = [e for e in sink.got if e.provider == "lago"]
    assert lago_event.kind is ChangeKind.CREATED and lago_event.record.name == "Live"
