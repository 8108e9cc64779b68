"""Events polling (a scripted feed on a sandbox adapter), re-listing, webhooks, and the
background runner's start and stop."""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace
from datetime import timedelta

from gateway.errors import ErrorKind, ProviderError
from gateway.index.contract import ChangeSource, SyncCursor
from gateway.model import ChangeEvent, ChangeKind, EventPage
from gateway.sync import SyncRunner, SyncState, apply_events
from gateway.sync.backfill import BACKFILL, EVENTS, RELIST, list_provider
from gateway.sync.incremental import poll_events_once
from gateway.sync.status import ProviderSyncStatus, utcnow
from tests.conftest import eventually
from tests.sync.conftest import PAGE_SIZE, Sandbox, with_sync
from tests.sync.helpers import (
    T0,
    FeedAdapter,
    RecordingIndex,
    ScriptedFeed,
    TickingClock,
    event,
    record,
)


def old_events(count: int) -> list[ChangeEvent]:
    return [
        event(record("stripe", f"cus_old{i}"), f"evt_old{i}", T0 - timedelta(days=2))
        for i in range(count)
    ]


async def test_the_events_head_is_marked_before_the_first_listing(sandbox: Sandbox) -> None:
    """The feed is read to its end (nothing applied) and that position saved before the first
    page is listed: every later change is then either in the listing or after the cursor."""
    feed = ScriptedFeed(old_events(10))
    adapter = FeedAdapter(sandbox.adapters["stripe"], feed)

    status = await SyncRunner(sandbox.index, {"stripe": adapter}, sandbox.settings).run_backfill()

    assert status.synced
    pages = math.ceil(sandbox.count("stripe") / PAGE_SIZE)
    assert adapter.calls == ["events", "events", *["list"] * pages]
    assert feed.calls == [(None, PAGE_SIZE), ("7", PAGE_SIZE)]
    first = sandbox.index.saved[0]
    assert (first.stream, first.position, first.records) == (EVENTS, "10", 0)
    assert all(c.source is ChangeSource.BACKFILL for c in sandbox.index.applied)


async def test_an_empty_feed_marks_its_head_at_the_start(sandbox: Sandbox) -> None:
    adapter = FeedAdapter(sandbox.adapters["tofupay"], ScriptedFeed())

    await SyncRunner(sandbox.index, {"tofupay": adapter}, sandbox.settings).run_backfill()

    head = sandbox.index.cursors["tofupay", EVENTS]
    assert head.position is None  # later events are read from the oldest listed


async def test_a_provider_listed_before_its_feed_existed_is_listed_again(sandbox: Sandbox) -> None:
    await sandbox.index.save_cursor(SyncCursor("stripe", BACKFILL, None, True, 3, T0))
    adapter = FeedAdapter(sandbox.adapters["stripe"], ScriptedFeed())

    status = await SyncRunner(sandbox.index, {"stripe": adapter}, sandbox.settings).run_backfill()

    assert adapter.calls[0] == "events"
    assert adapter.calls.count("list") == math.ceil(sandbox.count("stripe") / PAGE_SIZE)
    assert status.providers["stripe"].records == sandbox.count("stripe")


async def test_polling_passes_duplicated_and_out_of_order_events_with_their_times() -> None:
    index = RecordingIndex()
    await index.save_cursor(SyncCursor("stripe", EVENTS, "2", False, 0, T0))
    ada, bob = record("stripe", "cus_ada"), record("stripe", "cus_bob")
    newer = event(replace(ada, name="Ada L."), "evt_3", T0 + timedelta(minutes=10))
    older = event(replace(ada, name="Ada"), "evt_4", T0 + timedelta(minutes=5))
    gone = event(replace(bob, deleted=True), "evt_5", T0 + timedelta(minutes=7), ChangeKind.DELETED)
    feed = ScriptedFeed([*old_events(2), newer, newer, older, gone])
    stop, clock = asyncio.Event(), TickingClock()

    applied = await poll_events_once(feed, index, "stripe", limit=3, clock=clock, stop=stop)

    assert applied == 4
    assert feed.calls == [("2", 3), ("5", 3)]
    assert [(c.record.name, c.observed_at, c.source) for c in index.applied] == [
        ("Ada L.", newer.occurred_at, ChangeSource.EVENT),
        ("Ada L.", newer.occurred_at, ChangeSource.EVENT),
        ("Ada", older.occurred_at, ChangeSource.EVENT),
        (None, gone.occurred_at, ChangeSource.EVENT),
    ]
    assert index.latest[ada.ref].record.name == "Ada L."  # the older event changed nothing
    assert bob.ref not in index.live()
    saved = index.cursors["stripe", EVENTS]
    assert (saved.position, saved.records, saved.complete) == ("6", 4, True)
    assert [c.position for c in index.saved[1:]] == ["5", "6"]  # after each slice

    again = await poll_events_once(feed, index, "stripe", limit=3, clock=clock, stop=stop)

    assert again == 0 and feed.calls[-1] == ("6", 3)
    assert len(index.saved) == 3  # nothing new: no write


async def test_webhook_events_are_applied_as_webhook_changes() -> None:
    index = RecordingIndex()
    ada = record("lago", "ada")
    sink = apply_events(index)

    await sink([event(ada, "wh_1", T0), event(ada, "wh_1", T0)])
    await sink([])

    assert [(c.record.ref, c.observed_at, c.source) for c in index.applied] == [
        (ada.ref, T0, ChangeSource.WEBHOOK)
    ] * 2


async def test_a_complete_relisting_deletes_what_the_provider_no_longer_lists(
    sandbox: Sandbox,
) -> None:
    await SyncRunner(sandbox.index, sandbox.adapters, sandbox.settings).run_backfill()
    victim = sorted(sandbox.refs("lago"))[0]
    await sandbox.adapters["lago"].delete(victim.id)

    listing = await list_provider(
        sandbox.adapters["lago"],
        sandbox.index,
        stream=RELIST,
        source=ChangeSource.RELIST,
        page_size=PAGE_SIZE,
        clock=utcnow,
        stop=asyncio.Event(),
    )

    assert listing.complete and listing.deleted == 1
    deletion = sandbox.index.latest[victim]
    assert deletion.record.deleted and deletion.source is ChangeSource.RELIST
    assert sandbox.index.live("lago") == sandbox.refs("lago") - {victim}
    assert sandbox.index.cursors["lago", RELIST].complete


def sync_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("sync:") and not t.done()]


async def test_the_runner_backfills_then_polls_and_relists_and_stops_cleanly(
    sandbox: Sandbox,
) -> None:
    feed = ScriptedFeed()
    stripe = FeedAdapter(sandbox.adapters["stripe"], feed)
    adapters = {"stripe": stripe, "chartmogul": sandbox.adapters["chartmogul"]}
    settings = with_sync(sandbox.settings, poll_interval=0.01, relist_interval=0.02)
    runner = SyncRunner(sandbox.index, adapters, settings)

    await runner.start()
    try:
        await eventually(lambda: runner.is_synced("stripe") and runner.is_synced("chartmogul"))
        ada = record("stripe", "cus_ada")
        feed.events_list.append(event(ada, "evt_new", T0))
        await eventually(lambda: ada.ref in sandbox.index.live())
        await eventually(lambda: ("chartmogul", RELIST) in sandbox.index.cursors)
        status = runner.status()
        assert status.providers["stripe"].incremental == EVENTS
        assert status.providers["stripe"].cursor_age(status.at) is not None
    finally:
        await runner.aclose()

    assert sync_tasks() == []
    assert sandbox.index.latest[ada.ref].source is ChangeSource.EVENT
    assert sandbox.index.cursors["chartmogul", RELIST].complete


async def test_the_runner_retries_a_failing_provider_and_never_raises(sandbox: Sandbox) -> None:
    sandbox.set_faults("lago", outage=True)
    settings = with_sync(sandbox.settings, poll_interval=0.001)
    runner = SyncRunner(sandbox.index, {"lago": sandbox.adapters["lago"]}, settings)

    await runner.start()
    try:
        await eventually(lambda: runner.status().providers["lago"].state is SyncState.FAILED)
        sandbox.set_faults("lago", reset=True)
        await eventually(lambda: runner.is_synced("lago"))
    finally:
        await runner.aclose()

    assert sync_tasks() == []
    assert sandbox.index.live("lago") == sandbox.refs("lago")


class BrokenIndex(RecordingIndex):
    async def apply(self, changes: object) -> object:  # type: ignore[override]
        raise RuntimeError("could not connect to postgresql://gateway:s3cret@db/identity")


async def test_an_index_failure_is_reported_without_its_message(sandbox: Sandbox) -> None:
    runner = SyncRunner(BrokenIndex(), {"tofupay": sandbox.adapters["tofupay"]}, sandbox.settings)

    status = await runner.run_backfill()

    error = status.providers["tofupay"].error
    assert status.failed() == ["tofupay"]
    assert error is not None and "RuntimeError" in error and "s3cret" not in error


async def test_a_failed_poll_is_reported_and_polling_goes_on(sandbox: Sandbox) -> None:
    class FailingOnce(ScriptedFeed):
        failed = False

        async def events(self, cursor: str | None, limit: int) -> EventPage:
            if cursor is not None and not self.failed:
                self.failed = True
                raise ProviderError("stripe", ErrorKind.UNAVAILABLE, "events down")
            return await super().events(cursor, limit)

    feed = FailingOnce(old_events(1))
    stripe = FeedAdapter(sandbox.adapters["stripe"], feed)
    errors: list[str] = []

    def listener(status: ProviderSyncStatus) -> None:
        if status.incremental_error:
            errors.append(status.incremental_error)

    settings = with_sync(sandbox.settings, poll_interval=0.001)
    runner = SyncRunner(sandbox.index, {"stripe": stripe}, settings, listener=listener)

    await runner.start()
    try:
        await eventually(lambda: bool(errors))
        await eventually(lambda: runner.status().providers["stripe"].incremental_error is None)
    finally:
        await runner.aclose()

    assert "events down" in errors[0]
