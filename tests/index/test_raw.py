"""gateway/index/raw.py: a SQLite file's reads straight through the driver give the rows
SQLAlchemy would have given."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from gateway.index import ChangeSource, RecordChange, open_index
from gateway.index import reads as r
from gateway.index.engine import file_reader
from gateway.index.raw import _expand, _shape, fetch
from gateway.index.tables import customers
from tests.identity.test_resolver import fo, stripe
from tests.index.conftest import SETTINGS


@pytest.fixture
async def filled(tmp_path: Path) -> Path:
    path = tmp_path / "index.sqlite3"
    index = await open_index(f"sqlite+aiosqlite:///{path}", SETTINGS)
    changes = [
        RecordChange(record, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), ChangeSource.BACKFILL)
        for record in (
            stripe("cus_1", "ada@example.com"),
            fo("7", "ada@example.com"),
            stripe("cus_2", "bob@example.com"),
        )
    ]
    await index.apply(changes)
    await index.aclose()
    return path


def test_every_read_statement_gives_what_sqlalchemy_gives(filled: Path) -> None:
    reader = file_reader(f"sqlite:///{filled}")
    assert reader is not None
    try:
        with reader.engine.connect() as conn:
            ids = [row[0] for row in conn.execute(sa.select(customers.c.id))]
            assert len(ids) == 2
            cases: list[tuple[sa.Select[Any], dict[str, Any]]] = [
                (r._CUSTOMERS, {"ids": ids}),
                (r._MEMBERS, {"ids": ids}),
                (r._EDGES, {"ids": ids[:1]}),
                (r._CONFLICTS, {"ids": ids}),
                (r._ALIASES, {"ids": ids}),
                (r._ALIASES_OF, {"ids": ["gone", *ids]}),
                (r._WITH_EMAIL, {"email": "ada@example.com"}),
                (r._WITH_KEY, {"namespace": "email", "value": "ada@example.com"}),
                (r._HOLDING, {"provider": "stripe", "record_id": "cus_1"}),
            ]
            for statement, params in cases:
                expected = [tuple(row) for row in conn.execute(statement, params)]
                assert fetch(conn, statement, params) == expected, statement
            (synced,) = {row[2] for row in fetch(conn, r._CUSTOMERS, {"ids": ids})}
            assert synced.tzinfo is UTC  # the column's own processor ran: aware, in UTC
            assert fetch(conn, r._MEMBERS, {"ids": []}) == []
    finally:
        reader.close()


def test_a_statement_whose_values_need_converting_keeps_sqlalchemys_path(filled: Path) -> None:
    """A bind processor (here UTCDateTime's) would change the value on its way in: the
    statement is left to SQLAlchemy, which stores and compares naive UTC text."""
    since = sa.select(customers.c.id).where(customers.c.synced_at >= sa.bindparam("since"))
    reader = file_reader(f"sqlite:///{filled}")
    assert reader is not None
    try:
        with reader.engine.connect() as conn:
            assert _expand(since, _shape({"since": datetime.now(UTC)})) is None
            early = datetime(2020, 1, 1, tzinfo=UTC)
            assert len(fetch(conn, since, {"since": early})) == 2
            assert fetch(conn, since, {"since": datetime(2999, 1, 1, tzinfo=UTC)}) == []
    finally:
        reader.close()
