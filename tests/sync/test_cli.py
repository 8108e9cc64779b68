"""``customer-gateway sync``: exit codes, progress on stderr, resumable across runs."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import IdentitySettings, Settings
from gateway.index import IndexStats, open_index
from gateway.index.lease import lease_for
from gateway.sync.progress import Progress
from gateway.sync.status import ProviderSyncStatus, SyncState
from tests.sync.helpers import RecordingIndex

PROVIDERS = ("chartmogul", "firstofficer", "lago", "stripe", "tofupay")


def opener(index: RecordingIndex):  # type: ignore[no-untyped-def]
    async def open_index(settings: Settings) -> RecordingIndex:
        return index

    return open_index


@pytest.fixture(autouse=True)
def no_configured_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUSTOMER_GATEWAY_MODE", raising=False)
    monkeypatch.delenv("CUSTOMER_GATEWAY_CONFIG", raising=False)


def test_sync_on_the_sandbox_lists_every_provider_and_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    index = RecordingIndex()

    code = main(["sync", "--sandbox", "--customers", "12"], index_factory=opener(index))

    out, err = capsys.readouterr()
    assert code == 0, err
    assert [line.split(":")[0] for line in out.splitlines()] == list(PROVIDERS)
    assert all(line.endswith("complete") for line in out.splitlines())
    for name in PROVIDERS:  # plain progress lines (not a terminal): start and end
        assert f"sync: {name} 0 records listing" in err
        assert any(
            line.startswith(f"sync: {name} ") and "done" in line for line in err.splitlines()
        )
    assert index.closed
    assert {ref.provider for ref in index.live()} == set(PROVIDERS)


def test_a_failing_provider_exits_1_naming_it_and_the_next_run_resumes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    index = RecordingIndex()
    faults = json.dumps({"lago": {"outage": True}})

    code = main(
        ["sync", "--sandbox", "--customers", "12", "--faults", faults],
        index_factory=opener(index),
    )

    out, err = capsys.readouterr()
    assert code == 1
    assert "customer-gateway sync: lago stopped after 0 records" in err
    assert "not complete: lago" in err
    assert "lago" not in out and "stripe: " in out

    code = main(["sync", "--sandbox", "--customers", "12"], index_factory=opener(index))

    out, err = capsys.readouterr()
    assert code == 0, err
    assert "lago: " in out
    assert "sync: lago 0 records listing" in err
    assert "sync: stripe 0 records listing" not in err  # complete: not listed again
    assert {ref.provider for ref in index.live()} == set(PROVIDERS)


def test_sync_without_providers_or_sandbox_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sync"], index_factory=opener(RecordingIndex()))

    assert code == 2
    assert "pass --sandbox" in capsys.readouterr().err


def test_sync_fills_the_configured_index_and_a_second_run_resumes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'index.sqlite3'}"
    monkeypatch.setenv("CUSTOMER_GATEWAY_INDEX_URL", url)

    assert main(["sync", "--sandbox", "--customers", "6"]) == 0
    first = capsys.readouterr().out
    assert main(["sync", "--sandbox", "--customers", "6"]) == 0

    async def stats() -> IndexStats:
        index = await open_index(url, IdentitySettings())
        try:
            return await index.stats()
        finally:
            await index.aclose()

    found = asyncio.run(stats())
    assert set(found.records_per_provider) == set(PROVIDERS)
    assert 0 < found.customers < found.records
    for provider in PROVIDERS:
        assert f"{provider}: {found.records_per_provider[provider]} records, complete" in first


def test_sync_with_an_unreachable_index_exits_1_with_the_password_masked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CUSTOMER_GATEWAY_INDEX_URL", "postgresql+asyncpg://u:s3cret@127.0.0.1:1/db")

    assert main(["sync", "--sandbox", "--customers", "1"]) == 1
    err = capsys.readouterr().err
    assert "cannot migrate the identity index at postgresql+asyncpg://u:***@127.0.0.1:1/db" in err
    assert "s3cret" not in err


def test_progress_redraws_one_line_on_a_terminal() -> None:
    stream = io.StringIO()
    progress = Progress(stream, tty=True)

    progress.update(ProviderSyncStatus("stripe", SyncState.RUNNING, records=100, pages=1))
    progress.update(ProviderSyncStatus("lago", SyncState.FAILED, error="lago: unavailable: 503"))
    progress.close()

    assert stream.getvalue() == (
        "\r\x1b[2Ksync: stripe 100 records listing"
        "\r\x1b[2Ksync: lago 0 records FAILED (lago: unavailable: 503) | "
        "stripe 100 records listing\n"
    )


def test_plain_progress_prints_every_tenth_page_and_each_change_of_state() -> None:
    stream = io.StringIO()
    progress = Progress(stream, tty=False, every=10)

    progress.update(ProviderSyncStatus("stripe", SyncState.RUNNING))
    for page in range(1, 21):
        progress.update(ProviderSyncStatus("stripe", SyncState.RUNNING, records=page, pages=page))
    progress.update(ProviderSyncStatus("stripe", SyncState.COMPLETE, records=20, pages=20))
    progress.close()

    assert stream.getvalue().splitlines() == [
        "sync: stripe 0 records listing",
        "sync: stripe 10 records listing",
        "sync: stripe 20 records listing",
        "sync: stripe 20 records done",
    ]


def test_sync_refuses_while_another_process_syncs_the_index(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'index.sqlite3'}"
    monkeypatch.setenv("CUSTOMER_GATEWAY_INDEX_URL", url)
    serving = lease_for(url)  # as a serving gateway leading the index's sync holds it
    assert asyncio.run(serving.acquire())
    try:
        assert main(["sync", "--sandbox", "--customers", "6"]) == 1
    finally:
        asyncio.run(serving.release())

    out, err = capsys.readouterr()
    assert out == ""
    assert "another process is syncing this index" in err
    assert str(tmp_path / "index.sqlite3.sync-lock") in err
    assert "listing" not in err  # no provider was listed

    assert main(["sync", "--sandbox", "--customers", "6"]) == 0  # once it has let go
