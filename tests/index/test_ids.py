"""Stable id assignment, pure: merges keep the older id, splits keep it with the oldest record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.identity import encode_customer_id
from gateway.index.ids import NewCluster, OldCustomer, assign_ids, candidates
from gateway.model import RecordRef

T0 = datetime(2025, 1, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=30)
A, B, C, D = (RecordRef("stripe", f"cus_{n}") for n in "ABCD")
L1 = RecordRef("lago", "l1")


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def test_new_clusters_mint_from_their_anchor() -> None:
    result = assign_ids([], [NewCluster((A, L1)), NewCluster((B,))], {}, set(), NOW)
    assert result.ids == (encode_customer_id(A), encode_customer_id(B))
    assert result.minted_at == (NOW, NOW)
    assert result.fresh == {encode_customer_id(A), encode_customer_id(B)}
    assert not result.aliases and not result.emptied


def test_an_unchanged_customer_keeps_its_id_even_when_the_anchor_would_differ() -> None:
    old = OldCustomer("cgw_lago_first", day(0), frozenset({L1}))
    result = assign_ids([old], [NewCluster((A, L1))], {A: day(1), L1: day(2)}, set(), NOW)
    assert result.ids == ("cgw_lago_first",)
    assert result.minted_at == (day(0),)
    assert not result.fresh


def test_a_merge_keeps_the_older_id_and_aliases_the_other() -> None:
    older = OldCustomer("cgw_older", day(0), frozenset({B}))
    newer = OldCustomer("cgw_newer", day(5), frozenset({A}))
    result = assign_ids([newer, older], [NewCluster((A, B, C))], {}, set(), NOW)
    assert result.ids == ("cgw_older",)
    assert result.aliases == {"cgw_newer": "cgw_older"}


def test_a_merge_of_equal_mint_times_keeps_the_smaller_id() -> None:
    one = OldCustomer("cgw_b", day(0), frozenset({B}))
    two = OldCustomer("cgw_a", day(0), frozenset({A}))
    assert assign_ids([one, two], [NewCluster((A, B))], {}, set(), NOW).ids == ("cgw_a",)


def test_a_split_keeps_the_id_with_the_oldest_record_and_mints_the_rest() -> None:
    old = OldCustomer(encode_customer_id(A), day(0), frozenset({A, B, C}))
    created = {A: day(9), B: day(1), C: None}  # B oldest; unknown counts as latest
    result = assign_ids(
        [old], [NewCluster((A,)), NewCluster((B,)), NewCluster((C,))], created, set(), NOW
    )
    assert result.ids[1] == encode_customer_id(A)
    # A's own encoding is the kept id, so A's part takes its next candidate.
    assert result.ids[0] != encode_customer_id(A)
    assert result.ids[0] == next(
        c for c in candidates(NewCluster((A,))) if c != encode_customer_id(A)
    )
    assert result.ids[2] == encode_customer_id(C)
    assert result.fresh == {result.ids[0], result.ids[2]}


def test_a_split_on_equal_times_keeps_the_id_with_the_smallest_ref() -> None:
    old = OldCustomer("cgw_x", day(0), frozenset({A, B}))
    result = assign_ids(
        [old], [NewCluster((B,)), NewCluster((A,))], {A: day(1), B: day(1)}, set(), NOW
    )
    assert result.ids == (encode_customer_id(B), "cgw_x")


def test_a_chain_of_merges_aliases_every_other_id_to_the_oldest() -> None:
    olds = [OldCustomer(f"cgw_{i}", day(i), frozenset({r})) for i, r in enumerate((D, C, B, A))]
    result = assign_ids(olds, [NewCluster((A, B, C, D))], {}, set(), NOW)
    assert result.ids == ("cgw_0",)
    assert result.aliases == {"cgw_1": "cgw_0", "cgw_2": "cgw_0", "cgw_3": "cgw_0"}


def test_merge_and_split_at_once() -> None:
    one = OldCustomer("cgw_one", day(0), frozenset({A, B}))
    two = OldCustomer("cgw_two", day(1), frozenset({C}))
    # B leaves A and joins C.
    result = assign_ids(
        [one, two], [NewCluster((A,)), NewCluster((B, C))], {A: day(0), B: day(3)}, set(), NOW
    )
    assert result.ids == ("cgw_one", "cgw_two")
    assert not result.aliases


def test_an_emptied_customer_is_reported() -> None:
    gone = OldCustomer("cgw_gone", day(0), frozenset({D}))
    result = assign_ids([gone], [NewCluster((A,))], {}, set(), NOW)
    assert result.emptied == {"cgw_gone"}
    assert result.ids == (encode_customer_id(A),)


def test_taken_ids_are_skipped_and_the_fallback_is_well_formed() -> None:
    taken = {encode_customer_id(A), encode_customer_id(L1)}
    result = assign_ids([], [NewCluster((A, L1))], {}, taken, NOW)
    assert result.ids == (encode_customer_id(RecordRef("stripe", "cus_A~2")),)


def test_the_result_does_not_depend_on_input_order() -> None:
    olds = [
        OldCustomer("cgw_1", day(1), frozenset({A})),
        OldCustomer("cgw_2", day(1), frozenset({B})),
        OldCustomer("cgw_3", day(0), frozenset({C, D})),
    ]
    clusters = [NewCluster((A, B, C)), NewCluster((D,))]
    created = {C: day(0), D: day(1)}
    first = assign_ids(olds, clusters, created, set(), NOW)
    second = assign_ids(list(reversed(olds)), clusters, created, set(), NOW)
    assert first == second
    assert first.ids == ("cgw_3", encode_customer_id(D))
    assert first.aliases == {"cgw_1": "cgw_3", "cgw_2": "cgw_3"}
