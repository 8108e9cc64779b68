"""CachedIndex: who-is-who answers kept for a moment, emptied by any write through it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from gateway.index import ChangeSource, RecordChange, SQLIndex
from gateway.index.cached import CachedIndex
from gateway.model import RecordRef
from tests.identity.test_resolver import fo, stripe

A = RecordRef("stripe", "cus_A")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Counting:
    """Counts the inner index's customer_of calls (and can hold one open)."""

    def __init__(self, index: SQLIndex) -> None:
        self.original = index.customer_of
        self.calls = 0
        self.gate: asyncio.Event | None = None

    async def customer_of(self, ref: RecordRef) -> object:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        return await self.original(ref)


def change(record: object) -> RecordChange:
    return RecordChange(record, datetime.now(UTC), ChangeSource.BACKFILL)  # type: ignore[arg-type]


async def test_answers_are_kept_for_the_ttl_then_asked_again(index: SQLIndex) -> None:
    await index.apply([change(stripe("cus_A", email="a@x.com"))])
    clock = Clock()
    cached = CachedIndex(index, ttl=1.0, clock=clock)
    counting = Counting(index)
    cached.inner.customer_of = counting.customer_of  # type: ignore[method-assign]

    first = await cached.customer_of(A)
    again = await cached.customer_of(A)
    clock.now = 1.5
    later = await cached.customer_of(A)

    assert first == again == later and first is not None
    assert counting.calls == 2


async def test_a_write_through_it_empties_the_cache(index: SQLIndex) -> None:
    cached = CachedIndex(index, ttl=60.0, clock=Clock())
    await cached.apply([change(stripe("cus_A", email="a@x.com"))])
    alone = await cached.customer_of(A)
    assert alone is not None and len(alone.members) == 1

    await cached.apply([change(fo("7", email="a@x.com"))])

    joined = await cached.customer_of(A)
    assert joined is not None and len(joined.members) == 2


async def test_a_read_that_overlaps_a_write_is_not_kept(index: SQLIndex) -> None:
    await index.apply([change(stripe("cus_A", email="a@x.com"))])
    cached = CachedIndex(index, ttl=60.0, clock=Clock())
    counting = Counting(index)
    counting.gate = asyncio.Event()
    cached.inner.customer_of = counting.customer_of  # type: ignore[method-assign]

    reading = asyncio.create_task(cached.customer_of(A))
    await asyncio.sleep(0)
    cached.clear()  # what a write does
    counting.gate.set()
    await reading
    await cached.customer_of(A)

    assert counting.calls == 2  # the overlapping answer was not stored


async def test_at_most_size_answers_are_kept(index: SQLIndex) -> None:
    cached = CachedIndex(index, ttl=60.0, size=2, clock=Clock())
    for name in ("a", "b", "c"):
        await cached.customers_by_email(f"{name}@x.com")
    assert len(cached._entries) == 2
