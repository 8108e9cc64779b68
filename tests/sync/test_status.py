"""The sync's status: in ``/healthz`` when the app runs the sync, and off when told."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from gateway.config import Settings, SyncSettings
from gateway.sandbox.dataset import Dataset
from gateway.sync import SyncState
from gateway.sync.status import SyncBoard, error_text
from tests.conftest import eventually, gateway_harness
from tests.sync.helpers import T0, RecordingIndex, TickingClock


async def test_healthz_reports_the_background_sync(small_dataset: Dataset) -> None:
    index = RecordingIndex()
    async with gateway_harness(small_dataset, index=index, sync=True) as gateway:
        runner = gateway.app.state.sync
        await eventually(lambda: runner.status().synced)

        body = (await gateway.client.get("/healthz")).json()

    sync = body["sync"]
    assert sync["synced"] is True
    assert sync["role"] == "leader"  # an index of this process alone: it always leads
    assert sorted(sync["providers"]) == sorted(gateway.simulators)
    stripe = sync["providers"]["stripe"]
    assert stripe["state"] == "complete" and stripe["error"] is None
    assert stripe["records"] == len(small_dataset.for_provider("stripe"))
    assert stripe["startedAt"] and stripe["finishedAt"]
    assert runner._tasks == []  # the lifespan stopped it
    assert gateway.app.state.sync_leader.role == "standby"  # and handed the lease back


async def test_no_sync_when_turned_off_or_without_an_index(small_dataset: Dataset) -> None:
    off = replace(Settings(providers={}), sync=SyncSettings(enabled=False))
    async with gateway_harness(small_dataset, off, index=RecordingIndex()) as gateway:
        assert gateway.app.state.sync is None
        assert "sync" not in (await gateway.client.get("/healthz")).json()
    async with gateway_harness(small_dataset) as gateway:
        assert "sync" not in (await gateway.client.get("/healthz")).json()


def test_status_json_gives_the_events_cursor_age() -> None:
    clock = TickingClock()
    board = SyncBoard(["stripe"], clock=clock)
    board.started("stripe", 0)
    board.complete("stripe", 5)
    board.incremental_ok("stripe", "events")

    snapshot = board.snapshot()  # one tick after the poll

    entry = snapshot.as_json()["providers"]["stripe"]
    assert entry["cursorAgeSeconds"] == 1.0 and entry["incremental"] == "events"
    assert entry["records"] == 5 and snapshot.synced
    assert board.get("stripe").state is SyncState.COMPLETE
    assert board.get("stripe").finished_at == T0 + timedelta(seconds=2)


def test_error_text_keeps_provider_messages_and_hides_others() -> None:
    from gateway.errors import ErrorKind, ProviderError

    assert error_text(ProviderError("lago", ErrorKind.AUTH, "key rejected")) == (
        "lago: auth: key rejected"
    )
    assert "secret" not in error_text(ValueError("dsn postgresql://u:secret@h/db"))
