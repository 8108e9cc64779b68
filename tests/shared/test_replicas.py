"""Two gateway apps (two replicas, in one process) on one real Redis, against one sandbox.

Each replica has its own adapters, record cache and breakers, exactly as two processes would;
only Redis is shared. Upstream calls are counted in the simulators' own request logs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from prometheus_client import generate_latest
from starlette.applications import Starlette

from gateway.config import ProviderSettings, Settings, sandbox_settings, tune
from gateway.core.record_cache import RecordCache
from gateway.sandbox.base import simulator_state
from gateway.sandbox.dataset import SHOWCASE_EMAIL, Dataset
from gateway.sandbox.faults import Faults
from gateway.server import create_app
from tests.conftest import build_simulators, eventually
from tests.servers import RedisServer

CREATE = """mutation($input: CustomerInput!, $key: String) {
  createCustomer(input: $input, providers: [STRIPE], idempotencyKey: $key) {
    replayed userErrors { code } outcomes { provider status recordId }
  }
}"""
UPDATE = """mutation($id: ID!, $name: String!) {
  updateCustomer(id: $id, input: {name: $name}, providers: [STRIPE]) { outcomes { status } }
}"""
BY_EMAIL = """query($e: String!) { customerByEmail(email: $e) { id name stripe { id } } }"""
STRIPE_NAME = """query($e: String!) { customerByEmail(email: $e) { stripe { id name } } }"""


@dataclass
class Replicas:
    clients: list[httpx.AsyncClient]
    apps: list[Starlette]
    simulators: dict[str, Starlette]

    async def query(
        self, replica: int, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        response = await self.clients[replica].post(
            "/graphql", json={"query": query, "variables": variables or {}}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def calls(self, provider: str, method: str | None = None) -> int:
        log = simulator_state(self.simulators[provider]).log
        return sum(1 for entry in log if method is None or entry.method == method)

    def reset_calls(self) -> None:
        for app in self.simulators.values():
            simulator_state(app).log.clear()

    def cache(self, replica: int) -> RecordCache:
        cache: RecordCache = self.apps[replica].state.record_cache
        return cache


@asynccontextmanager
async def replicas(
    dataset: Dataset,
    redis_url: str,
    count: int = 2,
    tuned: Callable[[ProviderSettings], ProviderSettings] = lambda p: p,
) -> AsyncIterator[Replicas]:
    simulators = build_simulators(dataset)
    fast = {
        name: tuned(tune(p, backoff_base=0.001, backoff_max=0.005))
        for name, p in sandbox_settings().items()
    }
    settings = Settings(providers=fast, redis_url=redis_url)
    transports = {name: httpx.ASGITransport(app=app) for name, app in simulators.items()}
    async with AsyncExitStack() as stack:
        apps, clients = [], []
        for _ in range(count):
            app = create_app(settings, transports=transports, metrics=True)
            await stack.enter_async_context(LifespanManager(app))
            await asyncio.wait_for(app.state.shared.listener.connected.wait(), 5)
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
            clients.append(await stack.enter_async_context(client))
            apps.append(app)
        yield Replicas(clients, apps, simulators)


async def test_one_idempotency_key_sent_to_two_replicas_at_once_writes_once(
    small_dataset: Dataset, redis_url: str
) -> None:
    async with replicas(small_dataset, redis_url) as gw:
        # A slow Stripe keeps the first create running while the second arrives.
        simulator_state(gw.simulators["stripe"]).set_faults(Faults(latency_ms=200))
        variables = {"input": {"email": "twice@example.com", "name": "Twice"}, "key": "k-1"}

        first, second = await asyncio.gather(
            gw.query(0, CREATE, variables), gw.query(1, CREATE, variables)
        )

        assert gw.calls("stripe", "POST") == 1
        answers = [first["data"]["createCustomer"], second["data"]["createCustomer"]]
        assert sorted(a["replayed"] for a in answers) == [False, True]
        assert answers[0]["outcomes"] == answers[1]["outcomes"]
        assert answers[0]["outcomes"][0]["status"] == "APPLIED"

        # Later, through either replica: still one write; other arguments are refused.
        again = await gw.query(1, CREATE, variables)
        assert again["data"]["createCustomer"]["replayed"] is True
        other = await gw.query(0, CREATE, {**variables, "input": {"email": "x@example.com"}})
        assert other["data"]["createCustomer"]["userErrors"] == [{"code": "IDEMPOTENCY_KEY_REUSED"}]
        assert gw.calls("stripe", "POST") == 1


async def test_the_replicas_share_one_rate_limit_budget(
    small_dataset: Dataset, redis_url: str
) -> None:
    # 3 at once, then one every 10 s: within the 1 s deadline of these calls, the budget
    # admits exactly the burst, whichever replica asks (each alone would admit 3 too).
    def limited(p: ProviderSettings) -> ProviderSettings:
        if p.name != "stripe":
            return p
        return tune(p, rate_limit=0.1, rate_burst=3, deadline=1.0, max_retries=0)

    emails = [f"nobody{i}@example.com" for i in range(8)]
    async with replicas(small_dataset, redis_url, tuned=limited) as gw:
        gw.reset_calls()
        await asyncio.gather(
            *(gw.query(i % 2, BY_EMAIL, {"e": email}) for i, email in enumerate(emails))
        )
        for app in gw.apps:  # a Redis timeout would have let the replica's own bucket decide
            assert app.state.shared.link.up, app.state.shared.link.last_error
        assert gw.calls("stripe") == 3, [e.at for e in simulator_state(gw.simulators["stripe"]).log]


async def test_a_write_through_one_replica_invalidates_the_others_cache(
    small_dataset: Dataset, redis_url: str
) -> None:
    async with replicas(small_dataset, redis_url, tuned=lambda p: tune(p, cache_ttl=30)) as gw:
        before = await gw.query(1, STRIPE_NAME, {"e": SHOWCASE_EMAIL})
        stripe = before["data"]["customerByEmail"]["stripe"][0]
        gw.reset_calls()
        assert await gw.query(1, STRIPE_NAME, {"e": SHOWCASE_EMAIL}) == before
        assert gw.calls("stripe") == 0  # B answers from its cache
        # And A from Redis's, without calling Stripe either.
        assert await gw.query(0, STRIPE_NAME, {"e": SHOWCASE_EMAIL}) == before
        assert gw.calls("stripe") == 0

        assert gw.cache(1).held("stripe") > 0
        customer = (await gw.query(0, BY_EMAIL, {"e": SHOWCASE_EMAIL}))["data"]["customerByEmail"]
        written = await gw.query(0, UPDATE, {"id": customer["id"], "name": "Ada, Countess"})
        assert written["data"]["updateCustomer"]["outcomes"] == [{"status": "APPLIED"}]
        # B drops its entries when the invalidation message arrives (pub/sub, asynchronous).
        await eventually(lambda: gw.cache(1).held("stripe") == 0, within=5)

        after = await gw.query(1, STRIPE_NAME, {"e": SHOWCASE_EMAIL})
        assert after["data"]["customerByEmail"]["stripe"] == [
            {"id": stripe["id"], "name": "Ada, Countess"}
        ]


async def test_a_circuit_one_replica_opens_fails_the_other_fast(
    small_dataset: Dataset, redis_url: str
) -> None:
    def fragile(p: ProviderSettings) -> ProviderSettings:
        return tune(p, breaker_threshold=1, breaker_reset=30, max_retries=0)

    async with replicas(small_dataset, redis_url, tuned=fragile) as gw:
        simulator_state(gw.simulators["lago"]).set_faults(Faults(next_statuses=[503]))
        await gw.query(0, BY_EMAIL, {"e": SHOWCASE_EMAIL})
        assert gw.apps[0].state.adapters["lago"].http.breaker.state == "open"
        await eventually(
            lambda: gw.apps[1].state.adapters["lago"].http.shared.refusal() is not None
        )
        gw.reset_calls()

        body = await gw.query(1, BY_EMAIL, {"e": SHOWCASE_EMAIL})

        assert gw.calls("lago") == 0  # B never called Lago
        degraded = body["extensions"]["degradedProviders"]
        assert any(
            d["provider"] == "lago" and "another gateway instance" in d["message"] for d in degraded
        )
        ready = (await gw.clients[1].get("/readyz")).json()
        assert ready["providers"]["lago"]["open_elsewhere_seconds"] > 0


async def test_redis_stopped_mid_run(small_dataset: Dataset, own_redis: RedisServer) -> None:
    async with replicas(small_dataset, own_redis.url, count=1) as gw:
        ready = (await gw.clients[0].get("/readyz")).json()
        assert ready["redis"]["up"] is True
        own_redis.stop()

        read = await gw.query(0, BY_EMAIL, {"e": SHOWCASE_EMAIL})
        assert read["data"]["customerByEmail"]["name"] == "Ada Lovelace"
        assert "errors" not in read

        variables = {"input": {"email": "down@example.com", "name": "Down"}, "key": "k-down"}
        keyed = await gw.query(0, CREATE, variables)
        assert keyed["data"] is None or keyed["data"]["createCustomer"] is None
        assert [e["extensions"]["code"] for e in keyed["errors"]] == ["IDEMPOTENCY_UNAVAILABLE"]
        assert gw.calls("stripe", "POST") == 0

        unkeyed = await gw.query(0, CREATE, {"input": variables["input"]})
        assert unkeyed["data"]["createCustomer"]["outcomes"][0]["status"] == "APPLIED"

        response = await gw.clients[0].get("/readyz")
        assert response.status_code == 200
        assert response.json()["status"] == "ready"
        assert response.json()["redis"]["up"] is False
        metrics = generate_latest(gw.apps[0].state.telemetry.metrics.registry).decode()
        assert "customer_gateway_redis_up 0.0" in metrics
        assert "customer_gateway_redis_errors_total{operation=" in metrics

        own_redis.start()  # back: keyed writes go through again, once
        await eventually(lambda: gw.apps[0].state.shared.link.available(), within=5)
        again = await gw.query(0, CREATE, variables)
        assert "errors" not in again, gw.apps[0].state.shared.link.last_error
        assert again["data"]["createCustomer"]["outcomes"][0]["status"] == "APPLIED"
        assert (await gw.clients[0].get("/readyz")).json()["redis"]["up"] is True
