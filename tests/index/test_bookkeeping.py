"""Overrides (the audit trail), sync cursors and stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.identity import Override, OverrideKind
from gateway.index import ChangeSource, RecordChange, SQLIndex, SyncCursor
from gateway.model import RecordRef
from tests.identity.test_resolver import lago, stripe, tofu

T0 = datetime(2024, 1, 1, tzinfo=UTC)
A, B, C = RecordRef("stripe", "cus_A"), RecordRef("lago", "b"), RecordRef("tofupay", "c")


def override(kind: OverrideKind, *refs: RecordRef, minutes: int, reason: str = "") -> Override:
    return Override(
        kind, refs, reason or f"{kind} at {minutes}", "ops@x.com", T0 + timedelta(minutes=minutes)
    )


async def test_overrides_are_kept_and_listed_oldest_first(index: SQLIndex) -> None:
    await index.apply([RecordChange(stripe("cus_A"), T0, ChangeSource.BACKFILL)])
    later = override(OverrideKind.UNLINK, A, minutes=5)
    earlier = override(OverrideKind.LINK, A, B, minutes=1, reason="same company, per CRM")
    other = override(OverrideKind.UNLINK, C, minutes=3)

    for decided in (later, earlier, other):
        await index.add_override(decided)

    assert list(await index.overrides()) == [earlier, other, later]
    assert list(await index.overrides([B])) == [earlier]
    assert list(await index.overrides([A, C])) == [earlier, other, later]
    assert list(await index.overrides([RecordRef("stripe", "cus_none")])) == []
    assert list(await index.overrides([])) == []


async def test_sync_cursors_are_saved_and_replaced(index: SQLIndex) -> None:
    assert await index.cursor("stripe", "backfill") is None
    first = SyncCursor("stripe", "backfill", "cus_100", False, 100, T0)
    done = SyncCursor("stripe", "backfill", None, True, 250, T0 + timedelta(hours=1))
    events = SyncCursor("stripe", "events", "evt_9", False, 3, T0)

    await index.save_cursor(first)
    await index.save_cursor(events)
    assert await index.cursor("stripe", "backfill") == first
    await index.save_cursor(done)

    assert await index.cursor("stripe", "backfill") == done
    assert await index.cursor("stripe", "events") == events
    assert await index.cursor("lago", "backfill") is None


async def test_stats_count_live_records_and_customers(index: SQLIndex) -> None:
    assert (await index.stats()).records == 0
    await index.apply(
        [
            RecordChange(r, T0, ChangeSource.BACKFILL)
            for r in (
                stripe("cus_A", email="a@x.com"),
                lago("b", email="a@x.com"),
                tofu("c", email="c@x.com"),
                tofu("d", deleted=True),
            )
        ]
    )

    stats = await index.stats()
    assert (stats.records, stats.customers) == (3, 2)
    assert stats.records_per_provider == {"lago": 1, "stripe": 1, "tofupay": 1}
