"""The record cache through the whole gateway, against the five simulators (in-process)."""

from __future__ import annotations

import asyncio
from collections import Counter

from gateway.config import Settings, sandbox_settings, tune
from gateway.core.record_cache import RecordCache
from gateway.sandbox.dataset import SHOWCASE_EMAIL, Dataset
from gateway.sandbox.faults import Faults
from tests.conftest import GatewayHarness, gateway_harness

QUERY = """query($e: String!, $fresh: Boolean! = false) {
  customerByEmail(email: $e, fresh: $fresh) {
    id name lago { externalId name } stripe { id }
    metrics { mrr { amount } totalContractValue { amount } }
  }
}"""
UPDATE = """mutation($id: ID!, $name: String!) {
  updateCustomer(id: $id, input: {name: $name}, providers: [LAGO]) {
    outcomes { provider status }
  }
}"""


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def cached(ttl: float) -> Settings:
    providers = {
        name: tune(p, cache_ttl=ttl, cache_stale_ttl=300) for name, p in sandbox_settings().items()
    }
    return Settings(providers=providers)


def record_cache(gateway: GatewayHarness) -> RecordCache:
    cache: RecordCache = gateway.app.state.record_cache
    return cache


def upstream(gateway: GatewayHarness) -> int:
    return sum(gateway.call_counts().values())


async def test_the_second_identical_query_makes_no_upstream_call(small_dataset: Dataset) -> None:
    async with gateway_harness(small_dataset, cached(30)) as gateway:
        first = await gateway.query(QUERY, {"e": SHOWCASE_EMAIL})
        assert upstream(gateway) > 0
        gateway.reset_calls()

        second = await gateway.query(QUERY, {"e": SHOWCASE_EMAIL})

        assert second == first and "errors" not in second
        assert gateway.call_counts() == dict.fromkeys(gateway.simulators, 0)


async def test_answers_expire_with_the_ttl(small_dataset: Dataset) -> None:
    async with gateway_harness(small_dataset, cached(30)) as gateway:
        clock = record_cache(gateway).clock = Clock()
        await gateway.query(QUERY, {"e": SHOWCASE_EMAIL})
        cold = upstream(gateway)
        gateway.reset_calls()

        clock.now += 29
        await gateway.query(QUERY, {"e": SHOWCASE_EMAIL})
        assert upstream(gateway) == 0
        clock.now += 1
        await gateway.query(QUERY, {"e": SHOWCASE_EMAIL})
        assert upstream(gateway) == cold


async def test_ttl_zero_is_todays_behaviour(small_dataset: Dataset) -> None:
    async with gateway_harness(small_dataset) as gateway:
        first = await gateway.query(QUERY, {"e": SHOWCASE_EMAIL})
        cold = gateway.call_counts()
        gateway.reset_calls()

        second = await gateway.query(QUERY, {"e": SHOWCASE_EMAIL})

        assert second == first and gateway.call_counts() == cold
        assert len(record_cache(gateway)) == 0


async def test_concurrent_identical_queries_make_one_call_per_key(small_dataset: Dataset) -> None:
    async with gateway_harness(small_dataset) as gateway:  # the cold calls, for comparison
        await gateway.query(QUERY, {"e": SHOWCASE_EMAIL})
        cold = gateway.call_counts()
    async with gateway_harness(small_dataset, cached(30)) as gateway:
        for faults in gateway.simulators:  # hold every answer so the ten queries overlap
            gateway.set_faults(faults, Faults(latency_ms=50))

        bodies = await asyncio.gather(
            *(gateway.query(QUERY, {"e": SHOWCASE_EMAIL}) for _ in range(10))
        )

        assert all(body == bodies[0] for body in bodies)
        assert gateway.call_counts() == cold
        sent = Counter((c.method, c.path, c.query) for c in gateway.calls())
        assert max(sent.values()) == 1


async def test_a_provider_down_is_served_from_the_stale_answer_and_named(
    small_dataset: Dataset,
) -> None:
    async with gateway_harness(small_dataset, cached(30)) as gateway:
        clock = record_cache(gateway).clock = Clock()
        before = await gateway.query(QUERY, {"e": SHOWCASE_EMAIL})
        clock.now += 120
        gateway.set_faults("lago", Faults(outage=True))

        body = await gateway.query(QUERY, {"e": SHOWCASE_EMAIL})

        assert "errors" not in body
        assert body["data"] == before["data"]  # Lago's record, two minutes old
        [entry] = body["extensions"]["degradedProviders"]
        assert entry["provider"] == "lago" and entry["code"] == "PROVIDER_FALLBACK"
        assert entry["message"].startswith("served from cache, 120 s old: ")


async def test_a_write_through_the_gateway_invalidates(small_dataset: Dataset) -> None:
    async with gateway_harness(small_dataset, cached(30)) as gateway:
        before = await gateway.query(QUERY, {"e": SHOWCASE_EMAIL})
        customer = before["data"]["customerByEmail"]

        written = await gateway.query(UPDATE, {"id": customer["id"], "name": "Renamed Co"})
        assert written["data"]["updateCustomer"]["outcomes"] == [
            {"provider": "LAGO", "status": "APPLIED"}
        ]
        gateway.reset_calls()
        after = await gateway.query(QUERY, {"e": SHOWCASE_EMAIL})

        assert gateway.call_counts()["lago"] > 0
        assert gateway.call_counts()["stripe"] == 0  # other providers' answers stand
        assert [r["name"] for r in after["data"]["customerByEmail"]["lago"]] == ["Renamed Co"]


async def test_fresh_goes_upstream_and_refreshes_the_cache(small_dataset: Dataset) -> None:
    async with gateway_harness(small_dataset, cached(30)) as gateway:
        await gateway.query(QUERY, {"e": SHOWCASE_EMAIL})
        cold = gateway.call_counts()
        gateway.reset_calls()

        await gateway.query(QUERY, {"e": SHOWCASE_EMAIL, "fresh": True})
        assert gateway.call_counts() == cold
        gateway.reset_calls()
        await gateway.query(QUERY, {"e": SHOWCASE_EMAIL})
        assert upstream(gateway) == 0


async def test_metrics_count_the_cache(small_dataset: Dataset) -> None:
    async with gateway_harness(small_dataset, cached(30), metrics=True) as gateway:
        for _ in range(2):
            await gateway.query(QUERY, {"e": SHOWCASE_EMAIL})
        text = (await gateway.client.get("/metrics")).text

    def samples(result: str) -> list[str]:
        prefix = "customer_gateway_record_cache_lookups_total{"
        return [line for line in text.splitlines() if line.startswith(prefix) and result in line]

    assert samples('result="miss"') and samples('result="hit"')
    assert any('provider="lago"' in line for line in samples('result="hit"'))


async def test_a_mutation_plans_from_fresh_reads(small_dataset: Dataset) -> None:
    by_id = "query($id: ID!) { customer(id: $id) { name } }"
    async with gateway_harness(small_dataset, cached(30)) as gateway:
        found = await gateway.query(QUERY, {"e": SHOWCASE_EMAIL})
        customer_id = found["data"]["customerByEmail"]["id"]
        await gateway.query(by_id, {"id": customer_id})  # the reads an update starts with
        gateway.reset_calls()
        await gateway.query(by_id, {"id": customer_id})
        assert upstream(gateway) == 0

        await gateway.query(UPDATE, {"id": customer_id, "name": "X"})

        # Stripe is not written: its calls are the reads the update was planned from.
        assert [c.method for c in gateway.calls("stripe")] and all(
            c.method == "GET" for c in gateway.calls("stripe")
        )
