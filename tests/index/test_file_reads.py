"""Reads of a SQLite file index: a plain connection used on the event loop, beside the writer
(WAL), never writing, never waiting long for a lock."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from gateway.index import ChangeSource, RecordChange, open_index
from gateway.index.engine import INDEX_ERRORS, MEMORY_URL, READ_BUSY_TIMEOUT_MS, file_reader
from gateway.index.reads import customers_with_email
from gateway.model import RecordRef
from tests.identity.test_resolver import fo, stripe
from tests.index.conftest import SETTINGS


def url_of(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def test_a_read_goes_on_while_another_process_holds_the_write_lock(tmp_path: Path) -> None:
    index = await open_index(url_of(tmp_path / "index.sqlite3"), SETTINGS)
    try:
        changes = [
            RecordChange(record, datetime.now(UTC), ChangeSource.BACKFILL)
            for record in (stripe("cus_1", "ada@example.com"), fo("7", "ada@example.com"))
        ]
        await index.apply(changes)
        other = sqlite3.connect(tmp_path / "index.sqlite3")
        other.execute("BEGIN IMMEDIATE")  # a writer elsewhere, e.g. another worker's sync
        try:
            found = await asyncio.wait_for(index.customers_by_email("ADA@example.com "), 5)
        finally:
            other.rollback()
            other.close()
        assert [set(c.members) for c in found] == [
            {RecordRef("stripe", "cus_1"), RecordRef("firstofficer", "7")}
        ]
    finally:
        await index.aclose()


async def test_reader_connections_cannot_write(tmp_path: Path) -> None:
    index = await open_index(url_of(tmp_path / "index.sqlite3"), SETTINGS)
    await index.aclose()
    reader = file_reader(url_of(tmp_path / "index.sqlite3"))
    assert reader is not None
    try:
        with reader.engine.connect() as conn, pytest.raises(OperationalError, match="readonly"):
            conn.execute(sa.text("DELETE FROM records"))
    finally:
        reader.close()


async def test_a_read_gives_up_soon_on_a_file_another_process_holds_exclusively(
    tmp_path: Path,
) -> None:
    """A read blocks the event loop, so it waits READ_BUSY_TIMEOUT_MS for a lock, not the
    writer's 10 s; its error is one the graph answers live on."""
    index = await open_index(url_of(tmp_path / "index.sqlite3"), SETTINGS)
    await index.aclose()
    other = sqlite3.connect(tmp_path / "index.sqlite3")
    other.execute("PRAGMA locking_mode = EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")  # in WAL mode, only an exclusive lock keeps readers out
    reader = file_reader(url_of(tmp_path / "index.sqlite3"))
    assert reader is not None
    try:
        with reader.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == READ_BUSY_TIMEOUT_MS
            with pytest.raises(INDEX_ERRORS, match="locked"):
                conn.execute(sa.text("SELECT count(*) FROM records"))
            with pytest.raises(INDEX_ERRORS, match="locked"):  # straight through the driver
                customers_with_email(conn, "ada@example.com")
    finally:
        reader.close()
        other.rollback()
        other.close()
    assert READ_BUSY_TIMEOUT_MS < 1000


@pytest.mark.parametrize("url", [MEMORY_URL, "postgresql+asyncpg://u:p@127.0.0.1/db"])
def test_only_a_sqlite_file_has_a_blocking_reader(url: str) -> None:
    """In memory there is one connection (the writer's); PostgreSQL reads are async already."""
    assert file_reader(url) is None
