"""Many customers by id in one read: aliases followed, unknown ids absent, duplicates once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gateway.identity import encode_customer_id
from gateway.index import SQLIndex
from gateway.index.cached import CachedIndex
from gateway.model import RecordRef
from tests.identity.test_resolver import fo, stripe, tofu
from tests.index.test_apply import A, B, L, seen
from tests.index.test_cached import Clock

ANN, BOB = encode_customer_id(A.ref), encode_customer_id(B.ref)
NOBODY = encode_customer_id(RecordRef("stripe", "cus_nobody"))


def count_reads(index: SQLIndex, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the blocking reads the index runs (one hand-off each)."""
    reads: list[str] = []
    reading = index._reading

    async def counted(read: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        reads.append(read.__name__)
        return await reading(read, *args, **kwargs)

    monkeypatch.setattr(index, "_reading", counted)
    return reads


async def test_each_known_id_gives_its_customer_in_one_read(
    index: SQLIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    await index.apply([seen(A), seen(L), seen(B), seen(tofu("t1", email="cy@x.com"))])
    cy = encode_customer_id(RecordRef("tofupay", "t1"))
    reads = count_reads(index, monkeypatch)

    found = await index.customers([ANN, NOBODY, BOB, ANN, cy])

    assert reads == ["customers_named"]
    assert set(found) == {ANN, BOB, cy}  # the unknown id is absent, the repeated one once
    for customer_id, customer in found.items():
        assert customer == await index.customer(customer_id)
    assert set(found[ANN].members) == {A.ref, L.ref}


async def test_a_merged_away_id_gives_the_survivor(index: SQLIndex) -> None:
    await index.apply([seen(B)])  # minted first: bob's id survives the merge
    await index.apply([seen(A)])
    await index.apply([seen(fo("7", email="ann@x.com", extra_id="bob"))])

    found = await index.customers([ANN, BOB])

    assert found[ANN] == found[BOB]
    assert found[ANN].id == BOB and found[ANN].aliases == (ANN,)


async def test_no_ids_and_only_unknown_ids_give_nothing(
    index: SQLIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    await index.apply([seen(A)])
    reads = count_reads(index, monkeypatch)

    assert await index.customers([]) == {}
    assert reads == []  # nothing asked, nothing read
    assert await index.customers([NOBODY, "cgw_not_even_minted"]) == {}


async def test_the_cache_answers_each_id_from_its_own_entry_and_reads_the_rest_at_once(
    index: SQLIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    await index.apply([seen(A), seen(L), seen(B)])
    cached = CachedIndex(index, ttl=60.0, clock=Clock())
    assert await cached.customer(ANN) is not None  # kept under ANN's id
    reads = count_reads(index, monkeypatch)

    first = await cached.customers([ANN, BOB, NOBODY])
    again = await cached.customers([BOB, NOBODY, ANN])

    assert reads == ["customers_named"]  # BOB and NOBODY, once; ANN and then all from the cache
    assert set(first) == set(again) == {ANN, BOB}
    assert first[BOB] == again[BOB] == await cached.customer(BOB)
    assert await cached.customer(NOBODY) is None  # the unknown answer was kept too
    assert reads == ["customers_named"]


async def test_a_write_through_the_cache_empties_the_batch_answers(index: SQLIndex) -> None:
    cached = CachedIndex(index, ttl=60.0, clock=Clock())
    await cached.apply([seen(B)])
    await cached.apply([seen(A)])
    assert (await cached.customers([ANN]))[ANN].id == ANN

    await cached.apply([seen(fo("7", email="ann@x.com", extra_id="bob"))])

    assert (await cached.customers([ANN]))[ANN].id == BOB


async def test_the_cache_keeps_no_batch_answer_read_across_a_write(
    index: SQLIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    await index.apply([seen(stripe("cus_A", email="ann@x.com"))])
    cached = CachedIndex(index, ttl=60.0, clock=Clock())
    customers = index.customers

    async def racing(ids: Any) -> Any:
        found = await customers(ids)
        cached.clear()  # what a write meanwhile does
        return found

    monkeypatch.setattr(index, "customers", racing)
    assert ANN in await cached.customers([ANN])
    reads = count_reads(index, monkeypatch)
    monkeypatch.setattr(index, "customers", customers)

    assert ANN in await cached.customers([ANN])
    assert reads == ["customers_named"]  # the overlapping answer was not kept
