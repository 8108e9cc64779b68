"""Reads of a SQLite file index: plain connections on the index's own threads, beside the
writer (WAL), never writing."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from gateway.index import ChangeSource, RecordChange, open_index
from gateway.index.engine import MEMORY_URL, file_reader
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
    assert reader.threads._shutdown  # closing the index's reader ends its threads


@pytest.mark.parametrize("url", [MEMORY_URL, "postgresql+asyncpg://u:p@127.0.0.1/db"])
def test_only_a_sqlite_file_is_read_on_threads(url: str) -> None:
    """In memory there is one connection (the writer's); PostgreSQL reads are async already."""
    assert file_reader(url) is None
