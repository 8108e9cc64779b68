"""Reads and writes by record ref select exactly the named rows, through the (provider,
record_id) index: SQLite scans the whole table for a row-value ``IN (VALUES ...)``, which made
every read-repair and every component search cost a pass over all records."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.index.components import ref_in
from gateway.index.engine import make_engine
from gateway.index.migrate import upgrade
from gateway.index.tables import override_records, record_keys, records
from gateway.model import RecordRef

REFS = [RecordRef("stripe", "cus_1"), RecordRef("lago", "co_2"), RecordRef("lago", "co_3")]


@pytest.mark.parametrize("table", [records, record_keys, override_records], ids=lambda t: t.name)
async def test_sqlite_searches_the_index_for_refs(tmp_path: Path, table: sa.Table) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'index.sqlite3'}")
    try:
        await upgrade(engine)
        query = sa.select(sa.literal(1)).select_from(table)
        query = query.where(ref_in(table.c.provider, table.c.record_id, REFS))
        compiled = query.compile(engine.sync_engine, compile_kwargs={"literal_binds": True})
        async with engine.connect() as conn:
            plan = [row[-1] for row in await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")]
    finally:
        await engine.dispose()
    assert not [step for step in plan if step.startswith("SCAN")], plan
    assert [step for step in plan if step.startswith(f"SEARCH {table.name} USING")], plan


async def test_only_the_named_refs_are_selected(tmp_path: Path) -> None:
    """A provider's id never matches under another provider (``stripe:co_2`` is not named)."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'index.sqlite3'}")
    stored = [*REFS, RecordRef("stripe", "co_2"), RecordRef("lago", "cus_1")]
    try:
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.execute(
                sa.insert(record_keys),
                [
                    {"namespace": "email", "value": "a@b.example", "provider": r.provider,
                     "record_id": r.id}
                    for r in stored
                ],
            )  # fmt: skip
            columns = (record_keys.c.provider, record_keys.c.record_id)
            named = await conn.execute(sa.select(*columns).where(ref_in(*columns, REFS)))
            none = await conn.execute(sa.select(*columns).where(ref_in(*columns, [])))
            assert sorted(RecordRef(p, i) for p, i in named) == sorted(REFS)
            assert none.all() == []
    finally:
        await engine.dispose()
