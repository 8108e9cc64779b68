"""Operator overrides: which still hold (decide) and how resolve honours them."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from gateway.identity import Override, OverrideKind, decide
from gateway.identity.resolver import MatchEdge, MatchRule, resolve
from gateway.identity.survivorship import ConflictKind
from gateway.model import CustomerRecord, RecordRef
from tests.identity.test_resolver import SETTINGS, fo, lago, partition, stripe, tofu

A = RecordRef("stripe", "cus_A")
B = RecordRef("stripe", "cus_B")
L = RecordRef("lago", "acme")
F = RecordRef("firstofficer", "1")
T = RecordRef("tofupay", "cus_T")
GONE = RecordRef("stripe", "cus_GONE")


def at(day: int) -> datetime:
    return datetime(2025, 1, day, tzinfo=UTC)


def link(a: RecordRef, b: RecordRef, day: int, reason: str = "same company") -> Override:
    return Override(OverrideKind.LINK, (a, b), reason, "ops@example.com", at(day))


def unlink(ref: RecordRef, day: int, reason: str = "shared inbox") -> Override:
    return Override(OverrideKind.UNLINK, (ref,), reason, "ops@example.com", at(day))


def joined_four() -> list[CustomerRecord]:
    """cus_A joins lago and firstofficer by linked ids and tofupay by email."""
    return [
        stripe("cus_A", email="a@x.com", company_id="acme"),
        lago("acme", stripe_id="cus_A"),
        fo("1", stripe_id="cus_A"),
        tofu("cus_T", email="A@x.com"),
    ]


def test_link_joins_unrelated_records_with_an_override_edge() -> None:
    records = [stripe("cus_A", email="a@x.com"), tofu("cus_T", email="t@y.com")]
    assert len(resolve(records, SETTINGS)) == 2
    [customer] = resolve(records, SETTINGS, [link(T, A, 1, reason="  same company ")])
    assert customer.anchor == A
    assert customer.edges == (MatchEdge(MatchRule.OVERRIDE, None, "same company", A, T),)
    [blank] = resolve(records, SETTINGS, [link(A, T, 1, reason=" ")])
    assert [e.value for e in blank.edges] == ["manual link"]


def test_a_pair_linked_twice_has_one_edge_with_the_latest_reason() -> None:
    records = [stripe("cus_A"), tofu("cus_T")]
    overrides = [link(A, T, 2, reason="second look"), link(T, A, 1, reason="first look")]
    [customer] = resolve(records, SETTINGS, overrides)
    assert customer.edges == (MatchEdge(MatchRule.OVERRIDE, None, "second look", A, T),)


def test_unlink_detaches_a_record_joined_by_email_and_by_linked_id() -> None:
    records = joined_four()
    assert len(resolve(records, SETTINGS)) == 1
    customers = resolve(records, SETTINGS, [unlink(A, 1)])
    # the others keep what links them to each other (lago and firstofficer share cus_A's id)
    assert partition(customers) == [
        {"stripe:cus_A"},
        {"lago:acme", "firstofficer:1"},
        {"tofupay:cus_T"},
    ]
    assert customers[0].edges == () and customers[0].conflicts == ()


def test_a_link_after_an_unlink_reattaches_by_the_override_only() -> None:
    customers = resolve(joined_four(), SETTINGS, [link(A, T, 2), unlink(A, 1)])
    assert partition(customers) == [
        {"stripe:cus_A", "tofupay:cus_T"},
        {"lago:acme", "firstofficer:1"},
    ]
    assert customers[0].edges == (MatchEdge(MatchRule.OVERRIDE, None, "same company", A, T),)


def test_an_unlink_after_a_link_voids_it_and_only_links_naming_that_record() -> None:
    records = [stripe("cus_A"), stripe("cus_B"), tofu("cus_T")]
    overrides = [link(A, B, 1), link(A, T, 1), unlink(B, 2)]
    assert partition(resolve(records, SETTINGS, overrides)) == [
        {"stripe:cus_A", "tofupay:cus_T"},
        {"stripe:cus_B"},
    ]
    # at the same instant the unlink is the later decision
    same_time = [link(A, B, 3), unlink(B, 3)]
    assert len(resolve(records, SETTINGS, same_time)) == 3


def test_overrides_naming_unknown_or_deleted_records_are_ignored() -> None:
    records = [
        stripe("cus_A", email="a@x.com"),
        tofu("cus_T", email="a@x.com"),
        stripe("cus_B", deleted=True),
    ]
    expected = resolve(records, SETTINGS)
    overrides = [link(A, GONE, 1), link(T, B, 1), unlink(GONE, 2), unlink(B, 2)]
    assert resolve(records, SETTINGS, overrides) == expected
    assert len(expected) == 1


def test_a_link_passes_the_guardrail_and_is_reported() -> None:
    settings = dataclasses.replace(SETTINGS, max_records_per_provider=1)
    [customer] = resolve([stripe("cus_A"), stripe("cus_B")], settings, [link(A, B, 1)])
    [conflict] = customer.conflicts
    assert conflict.kind is ConflictKind.GUARDRAIL
    assert conflict.records == (A, B)
    assert "link overrides" in conflict.message


def test_decide_keeps_effective_links_in_order_and_lists_unlinked_records() -> None:
    naive = Override(OverrideKind.LINK, (L, F), "r", "ops", datetime(2025, 1, 4))  # taken as UTC
    overrides = [naive, unlink(A, 2), link(A, B, 1), link(A, T, 3), link(B, B, 5), link(A, L, 6)]
    decisions = decide(overrides, {A, B, L, F, T})
    assert decisions.links == (overrides[3], naive, overrides[5])  # A-B voided, B-B says nothing
    assert decisions.alone == frozenset({A})
    assert decide(reversed(overrides), {A, B, L, F, T}) == decisions
    assert decide(overrides, {B, L, F}) == decide([naive], {B, L, F})
