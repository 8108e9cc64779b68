"""The record cache on its own: a scripted adapter and an injected clock (no sleeping)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from gateway.config import CachePolicy, IdentitySettings
from gateway.core.loaders import Loaders, fresh_reads
from gateway.core.record_cache import RecordCache
from gateway.errors import ErrorKind, ProviderError
from gateway.model import CustomerRecord, Lookup
from gateway.providers.contract import Capabilities
from gateway.providers.notices import collect_notices
from gateway.telemetry.metrics import GatewayMetrics


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Book:
    """An adapter answering from a dict, counting calls; ``gate`` holds calls until set."""

    name = "lago"
    capabilities = Capabilities(lookups=frozenset({Lookup.ID, Lookup.EMAIL}))

    def __init__(self, records: dict[str, list[CustomerRecord]]) -> None:
        self.records = records
        self.calls: list[list[str]] = []
        self.error: ProviderError | None = None
        self.gate: asyncio.Event | None = None

    async def lookup(self, by: Lookup, values: Sequence[str]) -> list[list[CustomerRecord]]:
        self.calls.append(list(values))
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return [list(self.records.get(value, [])) for value in values]


def record(record_id: str, email: str | None = None) -> CustomerRecord:
    return CustomerRecord(provider="lago", id=record_id, raw={}, email=email)


def down(kind: ErrorKind = ErrorKind.UNAVAILABLE) -> ProviderError:
    return ProviderError("lago", kind, "GET /api/v1/customers/c1 answered 503")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def book() -> Book:
    return Book({"c1": [record("c1", "a@x.example")], "c2": [record("c2")]})


def cache_for(
    clock: Clock, ttl: float = 30.0, stale: float = 300.0, **options: object
) -> RecordCache:
    return RecordCache({"lago": CachePolicy(ttl=ttl, stale_ttl=stale)}, clock=clock, **options)  # type: ignore[arg-type]


async def ask(cache: RecordCache, book: Book, *keys: str, fresh: bool = False) -> list[object]:
    return list(await cache.lookup(book, Lookup.ID, keys, keys, fresh=fresh))  # type: ignore[arg-type]


async def test_an_answer_is_served_until_its_ttl_passes(clock: Clock, book: Book) -> None:
    cache = cache_for(clock)

    first = await ask(cache, book, "c1", "nobody")
    clock.now += 29.9
    second = await ask(cache, book, "c1", "nobody")

    assert first == second == [(record("c1", "a@x.example"),), ()]  # "not found" is an answer
    assert book.calls == [["c1", "nobody"]]
    clock.now += 0.1
    await ask(cache, book, "c1")
    assert book.calls == [["c1", "nobody"], ["c1"]]


async def test_only_the_missing_keys_go_upstream(clock: Clock, book: Book) -> None:
    cache = cache_for(clock)
    await ask(cache, book, "c1")

    assert await ask(cache, book, "c1", "c2") == [(record("c1", "a@x.example"),), (record("c2"),)]
    assert book.calls == [["c1"], ["c2"]]


async def test_concurrent_misses_for_one_key_make_one_call(clock: Clock, book: Book) -> None:
    cache = cache_for(clock)
    book.gate = asyncio.Event()

    waiting = [asyncio.ensure_future(ask(cache, book, "c1")) for _ in range(10)]
    await asyncio.sleep(0)
    book.gate.set()
    answers = await asyncio.gather(*waiting)

    assert book.calls == [["c1"]]
    assert all(a == [(record("c1", "a@x.example"),)] for a in answers)


async def test_a_failed_flight_fails_its_waiters_and_is_not_cached(
    clock: Clock, book: Book
) -> None:
    cache = cache_for(clock)
    book.gate, book.error = asyncio.Event(), down()

    waiting = [asyncio.ensure_future(ask(cache, book, "c1")) for _ in range(5)]
    await asyncio.sleep(0)
    book.gate.set()
    answers = await asyncio.gather(*waiting)

    assert all(a == [book.error] for a in answers)
    assert len(book.calls) == 1 and len(cache) == 0
    book.error = None
    assert await ask(cache, book, "c1") == [(record("c1", "a@x.example"),)]
    assert len(book.calls) == 2


async def test_a_caller_hanging_up_does_not_cancel_the_others_answer(
    clock: Clock, book: Book
) -> None:
    cache = cache_for(clock)
    book.gate = asyncio.Event()
    owner = asyncio.ensure_future(ask(cache, book, "c1"))
    await asyncio.sleep(0)
    waiter = asyncio.ensure_future(ask(cache, book, "c1"))
    await asyncio.sleep(0)

    owner.cancel()
    book.gate.set()

    assert await waiter == [(record("c1", "a@x.example"),)]
    assert book.calls == [["c1"]] and len(cache) == 1


async def test_stale_if_error_serves_the_old_answer_and_says_so(clock: Clock, book: Book) -> None:
    cache = cache_for(clock, ttl=30, stale=300)
    await ask(cache, book, "c1")
    clock.now += 100
    book.error = down()

    with collect_notices() as notices:
        answer = await ask(cache, book, "c1")

    assert answer == [(record("c1", "a@x.example"),)]
    assert notices["lago"].startswith("served from cache, 100 s old: ")
    assert "/api/v1/customers" not in notices["lago"]  # request paths hold customer ids


@pytest.mark.parametrize(
    ("age", "kind"),
    [(330.0, ErrorKind.UNAVAILABLE), (100.0, ErrorKind.BAD_REQUEST), (100.0, ErrorKind.AUTH)],
)
async def test_no_stale_answer_past_the_window_or_for_a_non_retryable_error(
    clock: Clock, book: Book, age: float, kind: ErrorKind
) -> None:
    cache = cache_for(clock, ttl=30, stale=300)
    await ask(cache, book, "c1")
    clock.now += age
    book.error = down(kind)

    with collect_notices() as notices:
        assert await ask(cache, book, "c1") == [book.error]
    assert not notices


async def test_fresh_skips_the_cache_but_refreshes_it(clock: Clock, book: Book) -> None:
    cache = cache_for(clock)
    await ask(cache, book, "c1")
    book.records["c1"] = [record("c1", "new@x.example")]

    assert await ask(cache, book, "c1", fresh=True) == [(record("c1", "new@x.example"),)]
    assert await ask(cache, book, "c1") == [(record("c1", "new@x.example"),)]
    assert len(book.calls) == 2


async def test_fresh_never_serves_stale(clock: Clock, book: Book) -> None:
    cache = cache_for(clock)
    await ask(cache, book, "c1")
    book.error = down()

    assert await ask(cache, book, "c1", fresh=True) == [book.error]


async def test_invalidate_drops_every_entry_of_the_provider(clock: Clock, book: Book) -> None:
    cache = cache_for(clock)
    await ask(cache, book, "c1", "c2")

    assert cache.invalidate("stripe") == 0
    assert cache.invalidate("lago") == 2
    await ask(cache, book, "c1")
    assert len(book.calls) == 2


async def test_invalidate_by_record_drops_its_answers_and_the_empty_ones(
    clock: Clock, book: Book
) -> None:
    cache = cache_for(clock)
    await ask(cache, book, "c1", "c2", "nobody")

    assert cache.invalidate("lago", record_ids=["c1"]) == 2  # c1's answer and "nobody"'s
    await ask(cache, book, "c1", "c2", "nobody")
    assert book.calls[-1] == ["c1", "nobody"]


async def test_a_flight_under_way_at_invalidation_stores_nothing(clock: Clock, book: Book) -> None:
    cache = cache_for(clock)
    book.gate = asyncio.Event()
    reading = asyncio.ensure_future(ask(cache, book, "c1"))
    await asyncio.sleep(0)

    cache.invalidate("lago")  # a write landed while the read was in flight
    book.gate.set()

    assert await reading == [(record("c1", "a@x.example"),)]
    assert len(cache) == 0


async def test_the_least_recently_used_answer_goes_first(clock: Clock, book: Book) -> None:
    cache = cache_for(clock, max_entries=2)
    await ask(cache, book, "c1")
    await ask(cache, book, "c2")
    await ask(cache, book, "c1")  # c1 used last: c2 is the oldest
    await ask(cache, book, "nobody")

    await ask(cache, book, "c1")
    assert book.calls == [["c1"], ["c2"], ["nobody"]]
    await ask(cache, book, "c2")
    assert book.calls[-1] == ["c2"]


async def test_metrics_count_hits_misses_coalesced_waits_and_stale_serves(
    clock: Clock, book: Book
) -> None:
    metrics = GatewayMetrics()
    cache = cache_for(clock, metrics=metrics)
    book.gate = asyncio.Event()
    first = [asyncio.ensure_future(ask(cache, book, "c1")) for _ in range(3)]
    await asyncio.sleep(0)
    book.gate.set()
    await asyncio.gather(*first)
    await ask(cache, book, "c1")
    clock.now += 60
    book.error = down()
    await ask(cache, book, "c1")

    def count(result: str) -> float | None:
        return metrics.registry.get_sample_value(
            "customer_gateway_record_cache_lookups_total", {"provider": "lago", "result": result}
        )

    assert (count("miss"), count("coalesced"), count("hit"), count("stale")) == (2, 2, 1, 1)


async def test_loaders_skip_the_cache_for_providers_without_a_ttl(clock: Clock, book: Book) -> None:
    cache = RecordCache({"lago": CachePolicy(ttl=0)}, clock=clock)
    for _ in range(2):
        loaders = Loaders({"lago": book}, IdentitySettings(), cache)  # type: ignore[dict-item]
        await loaders.load("lago", Lookup.ID, "c1")

    assert len(book.calls) == 2 and len(cache) == 0


async def test_one_request_can_mix_fresh_and_cached_reads(clock: Clock, book: Book) -> None:
    cache = cache_for(clock)
    await Loaders({"lago": book}, IdentitySettings(), cache).load("lago", Lookup.ID, "c1")  # type: ignore[dict-item]
    book.records["c1"] = [record("c1", "new@x.example")]
    loaders = Loaders({"lago": book}, IdentitySettings(), cache)  # type: ignore[dict-item]

    async def fresh() -> object:
        with fresh_reads():
            return (await loaders.load("lago", Lookup.ID, "c1")).records

    async def cached() -> object:
        return (await loaders.load("lago", Lookup.ID, "c1")).records

    old, new = await asyncio.gather(cached(), fresh())

    assert old == (record("c1", "a@x.example"),)
    assert new == (record("c1", "new@x.example"),)
    assert len(book.calls) == 2
