"""One background sync per index: two gateway apps on one index, only the lease holder lists
the providers; the other stands by, answers from the synced index and takes over when the
leader stops."""

from __future__ import annotations

import logging

import pytest

from gateway.config import Settings, SyncSettings, sandbox_settings
from gateway.sandbox.dataset import Dataset
from gateway.sync import SyncRunner
from gateway.sync.leader import LEASE_INTERVAL_MAX, Role, SyncLeader, lease_interval
from tests.conftest import GatewayHarness, eventually, gateway_harness, request_log
from tests.sync.conftest import Sandbox

SETTINGS = Settings(
    providers=sandbox_settings(),
    # A standby retries the lease every 0.1 s; no re-listing within a test.
    sync=SyncSettings(poll_interval=0.1, relist_interval=3600),
)
BY_EMAIL = "query($e: String!) { customerByEmail(email: $e) { id externalIds { provider id } } }"


def list_calls(gateway: GatewayHarness) -> dict[str, int]:
    """Listing requests (GET of a customers collection) each simulator has answered."""
    return {
        name: sum(
            1
            for call in request_log(app)
            if call.method == "GET" and call.path.rstrip("/").endswith("customers")
        )
        for name, app in gateway.simulators.items()
    }


def leader_of(gateway: GatewayHarness) -> SyncLeader:
    leader: SyncLeader = gateway.app.state.sync_leader
    return leader


async def test_two_apps_on_one_index_sync_it_once_and_the_standby_takes_over(
    index_url: str, small_dataset: Dataset, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="customer_gateway.sync")
    email = small_dataset.for_provider("stripe")[0]["email"]
    leading = gateway_harness(small_dataset, SETTINGS, graph=index_url, sync=True)
    first = await leading.__aenter__()
    running = True
    try:
        await first.synced()
        async with gateway_harness(small_dataset, SETTINGS, graph=index_url, sync=True) as second:
            one = (await first.client.get("/healthz")).json()["sync"]
            other = (await second.client.get("/healthz")).json()["sync"]
            assert (one["role"], other["role"]) == ("leader", "standby")
            # The standby knows from the index's cursors that every provider is listed.
            assert one["synced"] and other["synced"]
            assert {p["state"] for p in other["providers"].values()} == {"complete"}
            assert other["providers"]["stripe"]["records"] == one["providers"]["stripe"]["records"]
            assert all(list_calls(first).values())
            assert list_calls(second) == dict.fromkeys(second.simulators, 0)

            # Lookups on the standby go to the synced index: no live search.
            answer = await second.query(BY_EMAIL, {"e": email})
            assert answer["data"]["customerByEmail"]
            assert answer == await first.query(BY_EMAIL, {"e": email})
            assert await second.app.state.graph.synced(list(second.simulators))
            assert not any("search" in call.path for call in second.calls())

            running = False
            await leading.__aexit__(None, None, None)  # the leader stops, handing the lease back

            await eventually(lambda: leader_of(second).role is Role.LEADER, within=10)
            assert (await second.client.get("/healthz")).json()["sync"]["role"] == "leader"
            await second.synced()  # complete cursors: resumed, nothing listed again
            assert list_calls(second) == dict.fromkeys(second.simulators, 0)
    finally:
        if running:
            await leading.__aexit__(None, None, None)

    messages = [r.getMessage() for r in caplog.records if r.name == "customer_gateway.sync"]
    assert sum("took the lease" in m for m in messages) == 2
    assert sum("handed back the lease" in m for m in messages) == 2


def test_the_lease_is_tried_at_the_poll_interval_at_most_every_few_seconds() -> None:
    assert lease_interval(SyncSettings(poll_interval=0.5)) == 0.5
    assert lease_interval(SyncSettings(poll_interval=60)) == LEASE_INTERVAL_MAX


class LosableLease:
    """A lease that is taken once and then lost (as when a leader's database connection
    drops): it is never given again."""

    where = "test lease"

    def __init__(self) -> None:
        self.lost = False
        self.released = 0

    async def acquire(self) -> bool:
        return not self.lost

    async def held(self) -> bool:
        return not self.lost

    async def release(self) -> None:
        self.released += 1


async def test_a_leader_that_loses_the_lease_stops_its_sync_and_stands_by(
    sandbox: Sandbox,
) -> None:
    runner = SyncRunner(sandbox.index, sandbox.adapters, sandbox.settings)
    lease = LosableLease()
    leader = SyncLeader(runner, lease, interval=0.01)
    await leader.start()
    try:
        assert leader.role is Role.LEADER and runner._tasks

        lease.lost = True

        await eventually(lambda: leader.role is Role.STANDBY)
        assert runner._tasks == [] and lease.released == 1
        assert (await leader.status())["role"] == "standby"
    finally:
        await leader.aclose()
    assert lease.released == 1  # a standby has nothing to hand back
