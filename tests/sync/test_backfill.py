"""Backfill over the real simulators: pages pinned, resumable after a failure, providers
independent, deletions only after a complete listing from the first page."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from datetime import timedelta

import httpx

from gateway.config import tune
from gateway.index.contract import ChangeSource, RecordChange
from gateway.model import Page
from gateway.providers.contract import Capabilities
from gateway.providers.registry import make_adapter
from gateway.sync import SyncRunner, SyncState
from gateway.sync.backfill import BACKFILL, RELIST, list_provider
from gateway.sync.status import ProviderSyncStatus
from tests.sync.conftest import PAGE_SIZE, Sandbox
from tests.sync.helpers import T0, TickingClock, record

Listener = Callable[[ProviderSyncStatus], None]


def outage_after(sandbox: Sandbox, provider: str, pages: int) -> Listener:
    """A board listener that takes ``provider``'s simulator down once ``pages`` are listed."""

    def listener(status: ProviderSyncStatus) -> None:
        if status.provider == provider and status.pages == pages:
            sandbox.set_faults(provider, outage=True)

    return listener


async def test_backfill_lists_every_provider_to_the_end_in_pinned_pages(sandbox: Sandbox) -> None:
    runner = SyncRunner(sandbox.index, sandbox.adapters, sandbox.settings, clock=TickingClock())

    status = await runner.run_backfill()

    assert status.synced and status.failed() == []
    for name in sandbox.adapters:
        n = sandbox.count(name)
        pages = math.ceil(n / PAGE_SIZE)
        assert len(sandbox.list_calls(name)) == pages, name
        assert sandbox.index.live(name) == sandbox.refs(name)
        assert status.providers[name].records == n
        assert runner.is_synced(name)
        saved = [c for c in sandbox.index.saved if c.provider == name and c.stream == BACKFILL]
        # a cursor after every page; the last one complete, with no position left
        assert [c.complete for c in saved] == [False] * (pages - 1) + [True]
        assert saved[-1].position is None and saved[-1].records == n
    assert {c.source for c in sandbox.index.applied} == {ChangeSource.BACKFILL}


async def test_a_second_pass_lists_nothing_once_complete(sandbox: Sandbox) -> None:
    await SyncRunner(sandbox.index, sandbox.adapters, sandbox.settings).run_backfill()
    before = {name: len(sandbox.list_calls(name)) for name in sandbox.adapters}

    status = await SyncRunner(sandbox.index, sandbox.adapters, sandbox.settings).run_backfill()

    assert status.synced
    assert {name: len(sandbox.list_calls(name)) for name in sandbox.adapters} == before


async def test_a_provider_down_mid_listing_resumes_from_its_saved_cursor(sandbox: Sandbox) -> None:
    """Stripe goes down after two pages: the others complete, Stripe fails naming the error;
    the next run lists only Stripe's remaining pages, starting at the saved cursor."""
    first = SyncRunner(
        sandbox.index,
        sandbox.adapters,
        sandbox.settings,
        listener=outage_after(sandbox, "stripe", 2),
    )
    status = await first.run_backfill()

    assert status.failed() == ["stripe"]
    stripe = status.providers["stripe"]
    assert stripe.records == 2 * PAGE_SIZE
    assert stripe.error is not None and "unavailable" in stripe.error
    assert not first.is_synced("stripe")
    assert all(first.is_synced(n) for n in sandbox.adapters if n != "stripe")
    saved = sandbox.index.cursors["stripe", BACKFILL]
    assert not saved.complete and saved.records == 2 * PAGE_SIZE
    assert len(sandbox.list_calls("stripe")) == 2 + 2  # two pages, the failed call, one retry

    sandbox.set_faults("stripe", reset=True)
    done_before = len(sandbox.list_calls("stripe"))
    second = SyncRunner(sandbox.index, sandbox.adapters, sandbox.settings)
    status = await second.run_backfill()

    n = sandbox.count("stripe")
    resumed = sandbox.list_calls("stripe")[done_before:]
    assert len(resumed) == math.ceil(n / PAGE_SIZE) - 2
    assert f"starting_after={saved.position}" in resumed[0].query
    assert status.synced and status.providers["stripe"].records == n
    assert sandbox.index.live("stripe") == sandbox.refs("stripe")
    for name in sandbox.adapters:  # the others were not listed again
        if name != "stripe":
            assert len(sandbox.list_calls(name)) == math.ceil(sandbox.count(name) / PAGE_SIZE)


async def test_one_provider_down_from_the_start_stops_only_itself(sandbox: Sandbox) -> None:
    sandbox.set_faults("lago", outage=True)

    status = await SyncRunner(sandbox.index, sandbox.adapters, sandbox.settings).run_backfill()

    assert status.failed() == ["lago"]
    assert status.providers["lago"].state is SyncState.FAILED
    assert sandbox.index.live("lago") == set()
    assert ("lago", BACKFILL) not in sandbox.index.cursors
    for name in sandbox.adapters:
        if name != "lago":
            assert status.providers[name].state is SyncState.COMPLETE
            assert sandbox.index.live(name) == sandbox.refs(name)


async def test_records_a_complete_listing_misses_are_deleted_unless_newer(
    sandbox: Sandbox,
) -> None:
    """A record the index held from before the listing is marked deleted, dated when the
    listing started; one the index learnt of after that (an event) is kept."""
    gone, fresh = record("stripe", "cus_gone"), record("stripe", "cus_fresh")
    await sandbox.index.apply(
        [
            RecordChange(gone, T0 - timedelta(days=1), ChangeSource.READ),
            RecordChange(fresh, T0 + timedelta(days=1), ChangeSource.EVENT),
        ]
    )
    only_stripe = {"stripe": sandbox.adapters["stripe"]}
    runner = SyncRunner(sandbox.index, only_stripe, sandbox.settings, clock=TickingClock())

    await runner.run_backfill()

    deletion = sandbox.index.latest[gone.ref]
    assert deletion.record.deleted and deletion.source is ChangeSource.BACKFILL
    listed = [c for c in sandbox.index.applied if c.source is ChangeSource.BACKFILL]
    assert deletion.observed_at < listed[0].observed_at  # dated at the listing's start
    assert sandbox.index.live("stripe") == sandbox.refs("stripe") | {fresh.ref}


async def test_a_resumed_listing_deletes_nothing(sandbox: Sandbox) -> None:
    """A resumed pass did not see the pages before the stop, so it cannot know what is
    missing: no sweep (the next complete re-listing does it)."""
    gone = record("stripe", "cus_gone")
    await sandbox.index.apply([RecordChange(gone, T0, ChangeSource.READ)])
    only_stripe = {"stripe": sandbox.adapters["stripe"]}
    listener = outage_after(sandbox, "stripe", 1)
    await SyncRunner(sandbox.index, only_stripe, sandbox.settings, listener=listener).run_backfill()
    sandbox.set_faults("stripe", reset=True)

    status = await SyncRunner(sandbox.index, only_stripe, sandbox.settings).run_backfill()

    assert status.synced
    assert sandbox.index.live("stripe") == sandbox.refs("stripe") | {gone.ref}


class EmptyList:
    """A provider answering every listing with no records."""

    name = "tofupay"
    capabilities = Capabilities(lookups=frozenset(), list_page=True)

    async def list_page(self, cursor: str | None, limit: int) -> Page:
        return Page([], None)


async def test_an_empty_listing_deletes_nothing(sandbox: Sandbox) -> None:
    held = record("tofupay", "cus_held")
    await sandbox.index.apply([RecordChange(held, T0, ChangeSource.READ)])

    listing = await list_provider(
        EmptyList(),  # type: ignore[arg-type]  # only what listing uses
        sandbox.index,
        stream=RELIST,
        source=ChangeSource.RELIST,
        page_size=PAGE_SIZE,
        clock=TickingClock(),
        stop=asyncio.Event(),
    )

    assert listing.complete and listing.deleted == 0
    assert held.ref in sandbox.index.live("tofupay")


async def test_a_set_stop_lists_nothing_more(sandbox: Sandbox) -> None:
    stop = asyncio.Event()
    stop.set()

    listing = await list_provider(
        sandbox.adapters["stripe"],
        sandbox.index,
        stream=BACKFILL,
        source=ChangeSource.BACKFILL,
        page_size=PAGE_SIZE,
        clock=TickingClock(),
        stop=stop,
    )

    assert not listing.complete
    assert sandbox.list_calls("stripe") == []


async def test_listing_goes_through_the_providers_rate_limiter(sandbox: Sandbox) -> None:
    """No second limiter in the sync: each page takes a token from the adapter's own bucket."""
    settings = tune(sandbox.settings.providers["stripe"], rate_limit=0.001, rate_burst=50)
    transport = httpx.ASGITransport(app=sandbox.simulators["stripe"])
    adapter = make_adapter(settings, sandbox.settings.identity, transport)
    try:
        await SyncRunner(sandbox.index, {"stripe": adapter}, sandbox.settings).run_backfill()
        pages = math.ceil(sandbox.count("stripe") / PAGE_SIZE)
        calls = pages + 1  # and one read of the events list's head, marked before listing
        tokens = adapter.http.rate_limiter.tokens  # type: ignore[attr-defined]
        assert 50 - calls <= tokens < 50 - calls + 0.5
    finally:
        await adapter.aclose()
