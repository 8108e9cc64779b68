"""Duplicated and out-of-order changes converge (hypothesis): the index ends where one batch of
every change would have put it, whatever the order, the repeats and the batching.

Clusters converge for any changes. Ids are history by design (minted once, the older id
survives a merge, a split keeps it with the oldest record), so a change that merges two
customers and a later one that splits them again can move an id; they converge whenever the
versions of each record only add links (no transient merge is ever undone), which is what this
property generates for them.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from gateway.config import IdentitySettings, default_link_rules
from gateway.index import ChangeSource, PageQuery, RecordChange, SQLIndex, upgrade_to_head
from gateway.index.engine import make_engine
from gateway.index.tables import METADATA
from gateway.model import CustomerRecord, RecordRef
from tests.index.conftest import MEMORY, Clock

PROVIDERS = ("stripe", "lago", "firstofficer", "chartmogul", "tofupay", "stripe")
RULES = {**default_link_rules(), "tag": tuple(f"{p}:tags[]" for p in sorted(set(PROVIDERS)))}
SETTINGS = IdentitySettings(link_rules=RULES)
T0 = datetime(2024, 1, 1, tzinfo=UTC)
EMAILS = st.sampled_from([None, "a@x.com", " A@X.com", "b@x.com", "c@x.com"])
TAGS = st.sets(st.sampled_from(["t1", "t2", "t3"]), max_size=2)


def record(slot: int, email: str | None, tags: Sequence[str], deleted: bool) -> CustomerRecord:
    provider = PROVIDERS[slot]
    return CustomerRecord(
        provider, f"r{slot}", {"tags": sorted(tags)}, email=email, deleted=deleted
    )


def change(rec: CustomerRecord, minutes: int) -> RecordChange:
    return RecordChange(rec, T0 + timedelta(minutes=minutes), ChangeSource.EVENT)


@st.composite
def backfill(draw: st.DrawFn) -> list[RecordChange]:
    """Every record's first version, seen at minute 0."""
    return [
        change(record(slot, draw(EMAILS), draw(TAGS), False), 0) for slot in range(len(PROVIDERS))
    ]


@st.composite
def any_changes(draw: st.DrawFn) -> list[RecordChange]:
    """Later versions of the records: emails and links changing, deletions."""
    out = []
    for slot in range(len(PROVIDERS)):
        for minute in sorted(draw(st.sets(st.integers(1, 9), max_size=3))):
            rec = record(slot, draw(EMAILS), draw(TAGS), draw(st.booleans()))
            out.append(change(rec, minute))
    return out


@st.composite
def growing(draw: st.DrawFn) -> tuple[list[RecordChange], list[RecordChange]]:
    """A backfill, and later versions that keep each record's email and only add link tags:
    merges, never splits."""
    first, later = [], []
    for slot in range(len(PROVIDERS)):
        email, tags = draw(EMAILS), set(draw(TAGS))
        first.append(change(record(slot, email, sorted(tags), False), 0))
        for minute in range(1, draw(st.integers(0, 3)) + 1):
            tags |= draw(TAGS)
            later.append(change(record(slot, email, sorted(tags), False), minute))
    return first, later


@st.composite
def delivery(draw: st.DrawFn, changes: Sequence[RecordChange]) -> list[list[RecordChange]]:
    """``changes`` shuffled, some repeated, cut into batches."""
    repeated = (
        list(changes) + draw(st.lists(st.sampled_from(changes), max_size=4)) if changes else []
    )
    shuffled = draw(st.permutations(repeated))
    cuts = sorted(draw(st.sets(st.integers(0, len(shuffled)), max_size=4)))
    edges = [0, *cuts, len(shuffled)]
    return [shuffled[a:b] for a, b in itertools.pairwise(edges) if shuffled[a:b]]


@asynccontextmanager
async def fresh(url: str) -> AsyncIterator[SQLIndex]:
    """An empty index on the migrated database at ``url``: its tables emptied (much quicker
    than a new database per example)."""
    engine = make_engine(url)
    async with engine.begin() as conn:
        for table in reversed(METADATA.sorted_tables):
            await conn.execute(delete(table))
    index = SQLIndex(engine, SETTINGS, clock=Clock())
    try:
        yield index
    finally:
        await index.aclose()


Outcome = dict[RecordRef, tuple[str | None, frozenset[RecordRef]]]


async def outcome(
    url: str, first: list[RecordChange], batches: Sequence[Sequence[RecordChange]]
) -> Outcome:
    """Each record's customer id and members after the backfill and then ``batches``."""
    async with fresh(url) as index:
        await index.apply(first)
        for batch in batches:
            await index.apply(batch)
        page = await index.page(PageQuery(first=len(PROVIDERS) + 1))
    found = {ref: (c.id, frozenset(c.members)) for c in page.customers for ref in c.members}
    refs = [RecordRef(provider, f"r{slot}") for slot, provider in enumerate(PROVIDERS)]
    return {ref: found.get(ref, (None, frozenset())) for ref in refs}


def clusters(found: Outcome) -> dict[RecordRef, frozenset[RecordRef]]:
    return {ref: members for ref, (_, members) in found.items()}


SLOW = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
async def url(index_url: str, tmp_path: Path) -> str:
    """The backend's database, migrated; SQLite in a file here, so each example can empty the
    same database through a new engine."""
    if index_url == MEMORY:
        index_url = f"sqlite+aiosqlite:///{tmp_path / 'index.sqlite3'}"
    await upgrade_to_head(index_url)
    return index_url


@SLOW
@given(data=st.data(), first=backfill(), later=any_changes())
async def test_clusters_converge_for_any_order_and_repeats(
    url: str, data: st.DataObject, first: list[RecordChange], later: list[RecordChange]
) -> None:
    """Any batching converges in clusters; all of it in one batch, in any order, in ids too."""
    batches = data.draw(delivery(later))
    expected = await outcome(url, first, [later])
    assert await outcome(url, first, [[c for batch in batches for c in batch]]) == expected
    assert clusters(await outcome(url, first, batches)) == clusters(expected)


@SLOW
@given(data=st.data(), changes=growing())
async def test_clusters_and_ids_converge_when_links_only_grow(
    url: str, data: st.DataObject, changes: tuple[list[RecordChange], list[RecordChange]]
) -> None:
    first, later = changes
    expected = await outcome(url, first, [later])
    assert await outcome(url, first, data.draw(delivery(later))) == expected
