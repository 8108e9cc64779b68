"""The replay store and derived keys, without I/O."""

from __future__ import annotations

import asyncio

import pytest

from gateway.model import Address
from gateway.writes.idempotency import IdempotencyStore, derive_key, fingerprint


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def run_once(store: IdempotencyStore[str], key: str, print_: str, value: str) -> str:
    """What a mutation does with the store: replay, refuse, or run and record."""
    async with store.reserve("op", key, print_) as reservation:
        if reservation.replay is not None:
            return f"replay:{reservation.replay}"
        if reservation.reused:
            return "reused"
        reservation.record(value)
        return value


async def test_same_fingerprint_replays_and_another_is_refused() -> None:
    store: IdempotencyStore[str] = IdempotencyStore()
    assert await run_once(store, "k", "fp1", "first") == "first"
    assert await run_once(store, "k", "fp1", "second") == "replay:first"
    assert await run_once(store, "k", "fp2", "third") == "reused"
    # Keys are scoped by operation and client key.
    assert await run_once(store, "other", "fp1", "fresh") == "fresh"
    async with store.reserve("op2", "k", "fp1") as reservation:
        assert reservation.fresh


async def test_nothing_recorded_means_nothing_replayed() -> None:
    store: IdempotencyStore[str] = IdempotencyStore()
    async with store.reserve("op", "k", "fp") as reservation:
        assert reservation.fresh  # e.g. invalid input: not recorded
    with pytest.raises(RuntimeError):
        async with store.reserve("op", "k", "fp") as reservation:
            reservation.record("half")
            raise RuntimeError("the mutation crashed")
    assert len(store) == 0
    assert await run_once(store, "k", "fp", "ran") == "ran"


async def test_entries_expire_after_the_ttl() -> None:
    clock = Clock()
    store: IdempotencyStore[str] = IdempotencyStore(ttl=60, clock=clock)
    await run_once(store, "k", "fp", "first")
    clock.now += 59
    assert await run_once(store, "k", "fp", "x") == "replay:first"
    clock.now += 1
    assert len(store) == 0
    assert await run_once(store, "k", "fp2", "after") == "after"


async def test_the_store_is_bounded_least_recently_used_first() -> None:
    store: IdempotencyStore[str] = IdempotencyStore(max_entries=2)
    await run_once(store, "a", "fp", "A")
    await run_once(store, "b", "fp", "B")
    assert await run_once(store, "a", "fp", "x") == "replay:A"  # a is now most recent
    await run_once(store, "c", "fp", "C")
    assert len(store) == 2
    assert await run_once(store, "b", "fp", "B2") == "B2"  # b was evicted
    assert await run_once(store, "c", "fp", "x") == "replay:C"
    assert await run_once(store, "a", "fp", "A2") == "A2"  # a went when b came back


async def test_a_concurrent_duplicate_waits_and_replays() -> None:
    store: IdempotencyStore[str] = IdempotencyStore()
    started = asyncio.Event()
    release = asyncio.Event()
    runs = 0

    async def slow() -> str:
        nonlocal runs
        async with store.reserve("op", "k", "fp") as reservation:
            if reservation.replay is not None:
                return f"replay:{reservation.replay}"
            runs += 1
            started.set()
            await release.wait()
            reservation.record("done")
            return "done"

    first = asyncio.create_task(slow())
    await started.wait()
    second = asyncio.create_task(slow())
    await asyncio.sleep(0)
    assert not second.done()  # waiting on the first
    release.set()
    assert await asyncio.wait_for(asyncio.gather(first, second), 1) == ["done", "replay:done"]
    assert runs == 1
    assert store._locks == {}  # no lock left behind


def test_fingerprint_is_canonical() -> None:
    a = fingerprint({"input": {"name": "Ada", "address": Address(city="London")}, "p": None})
    b = fingerprint({"p": None, "input": {"address": Address(city="London"), "name": "Ada"}})
    c = fingerprint({"input": {"name": "Ada", "address": None}, "p": None})
    assert a == b != c
    assert len(a) == 64


def test_derived_keys_differ_per_provider_operation_and_record() -> None:
    keys = {
        derive_key("client", "createCustomer", "stripe"),
        derive_key("client", "createCustomer", "tofupay"),
        derive_key("client", "updateCustomer", "stripe"),
        derive_key("client", "updateCustomer", "stripe", "cus_1"),
        derive_key("other", "createCustomer", "stripe"),
    }
    assert len(keys) == 5
    assert all(len(k) == 64 and int(k, 16) >= 0 for k in keys)
    assert derive_key("c", "o", "p") == derive_key("c", "o", "p")


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        IdempotencyStore(max_entries=0)
    with pytest.raises(ValueError):
        IdempotencyStore(ttl=0)
