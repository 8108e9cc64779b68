"""Properties of the resolver over small random record sets (hypothesis)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.config import IdentitySettings
from gateway.identity.ids import decode_customer_id, encode_customer_id
from gateway.identity.keys import record_keys
from gateway.identity.overrides import Override, OverrideKind, decide
from gateway.identity.resolver import MatchRule, MergedCustomer, resolve
from gateway.identity.survivorship import ConflictKind
from gateway.model import CustomerRecord, RecordRef

STRIPE_IDS = ("cus_A1", "cus_B2", "cus_C3", "cus_D4", "cus_E5")
CM_UUIDS = (
    "cus_11111111-1111-4111-8111-111111111111",
    "cus_22222222-2222-4222-8222-222222222222",
    "cus_33333333-3333-4333-8333-333333333333",
)
EXTERNAL_IDS = ("acme", "globex", "initech")
EMAILS = ("ann@x.com", "bob@x.com")
JUNK_EMAILS = ("n/a", "test@test.com", "", "   ", "not-an-email")
NAMES = ("Ann", "ann", "Bob", None)
TIMES = (
    None,
    datetime(2023, 1, 1, tzinfo=UTC),
    datetime(2023, 1, 1),  # naive: the same moment, read as UTC
    datetime(2024, 6, 1, tzinfo=UTC),
)
REFS = (
    *(RecordRef("stripe", id) for id in STRIPE_IDS),
    *(RecordRef("chartmogul", id) for id in CM_UUIDS),
    *(RecordRef("firstofficer", id) for id in ("1", "2", "3", "4")),
    *(RecordRef("lago", id) for id in (*EXTERNAL_IDS, "hooli")),
    *(RecordRef("tofupay", id) for id in ("cus_T1", "cus_T2", "cus_T3")),
)
"""Every ref :func:`records` can draw, so overrides name present, absent and deleted records."""


@st.composite
def emails(draw: st.DrawFn) -> str | None:
    """An email from a small pool, in random case and padding, or junk, or nothing."""
    kind = draw(st.sampled_from(("pool", "pool", "pool", "junk", "none")))
    if kind == "none":
        return None
    if kind == "junk":
        return draw(st.sampled_from(JUNK_EMAILS))
    base = draw(st.sampled_from(EMAILS))
    flips = draw(st.lists(st.booleans(), min_size=len(base), max_size=len(base)))
    cased = "".join(ch.upper() if flip else ch for ch, flip in zip(base, flips, strict=True))
    pad = st.sampled_from(("", " ", "\t", "  "))
    return draw(pad) + cased + draw(pad)


def opt(values: Iterable[str]) -> st.SearchStrategy[str | None]:
    return st.none() | st.sampled_from(tuple(values))


@st.composite
def records(draw: st.DrawFn) -> CustomerRecord:
    """One record of a random provider with random links in that provider's raw shape."""
    provider = draw(st.sampled_from(("stripe", "chartmogul", "firstofficer", "lago", "tofupay")))
    raw: dict[str, Any]
    if provider == "stripe":
        id = draw(st.sampled_from(STRIPE_IDS))
        company = draw(opt(EXTERNAL_IDS))
        raw = {"id": id, "metadata": {"company_id": company} if company else {}}
    elif provider == "chartmogul":
        id = draw(st.sampled_from(CM_UUIDS))
        links = draw(st.lists(st.sampled_from(STRIPE_IDS + CM_UUIDS), max_size=2))
        raw = {"uuid": id, "external_ids": links}
    elif provider == "firstofficer":
        id = draw(st.sampled_from(("1", "2", "3", "4")))
        raw = {
            "id": int(id),
            "stripe_id": draw(opt(STRIPE_IDS + CM_UUIDS)),
            "extra_id": draw(opt(EXTERNAL_IDS)),
        }
    elif provider == "lago":
        id = draw(st.sampled_from((*EXTERNAL_IDS, "hooli")))
        raw = {
            "external_id": id,
            "billing_configuration": {"provider_customer_id": draw(opt(STRIPE_IDS))},
        }
    else:
        id = draw(st.sampled_from(("cus_T1", "cus_T2", "cus_T3")))
        raw = {"id": id}
    return CustomerRecord(
        provider,
        id,
        raw,
        email=draw(emails()),
        name=draw(st.sampled_from(NAMES)),
        created_at=draw(st.sampled_from(TIMES)),
        deleted=draw(st.integers(0, 9)) == 0,
    )


@st.composite
def overrides(draw: st.DrawFn) -> Override:
    """A LINK of two refs or an UNLINK of one, at few distinct times so ties happen."""
    kind = draw(st.sampled_from(OverrideKind))
    size = 2 if kind is OverrideKind.LINK else 1
    return Override(
        kind,
        tuple(draw(st.lists(st.sampled_from(REFS), min_size=size, max_size=size))),
        draw(st.sampled_from(("same company", "", "shared inbox"))),
        draw(st.sampled_from(("ops", "admin"))),
        draw(st.sampled_from(TIMES[1:])),
    )


record_sets = st.lists(records(), min_size=2, max_size=14, unique_by=lambda r: (r.provider, r.id))
override_lists = st.lists(overrides(), max_size=6)
identity_settings = st.integers(1, 3).map(lambda n: IdentitySettings(max_records_per_provider=n))


def linked_components(
    records: Iterable[CustomerRecord], cfg: IdentitySettings
) -> list[set[RecordRef]]:
    """Components joined by shared link keys only (a plain flood fill, independent code)."""
    keys = {r.ref: record_keys(r, cfg) for r in records}
    left = set(keys)
    out: list[set[RecordRef]] = []
    while left:
        todo = [left.pop()]
        component = set(todo)
        while todo:
            ref = todo.pop()
            for other in list(left):
                if keys[ref] & keys[other]:
                    left.discard(other)
                    component.add(other)
                    todo.append(other)
        out.append(component)
    return out


def internal(customer: MergedCustomer) -> MergedCustomer:
    """The customer without guardrails naming records outside it (refused email joins)."""
    mine = {r.ref for r in customer.records}
    return dataclasses.replace(
        customer, guardrails=tuple(c for c in customer.guardrails if set(c.records) <= mine)
    )


@settings(max_examples=200, deadline=None)
@given(data=st.data(), recs=record_sets, cfg=identity_settings)
def test_permutation_invariance(
    data: st.DataObject, recs: list[CustomerRecord], cfg: IdentitySettings
) -> None:
    expected = resolve(recs, cfg)
    shuffled = data.draw(st.permutations(recs))
    got = resolve(shuffled, cfg)
    assert got == expected
    assert [encode_customer_id(c.anchor) for c in got] == [
        encode_customer_id(c.anchor) for c in expected
    ]
    assert [c.edges for c in got] == [c.edges for c in expected]


@settings(max_examples=200, deadline=None)
@given(data=st.data(), recs=record_sets, ovs=override_lists, cfg=identity_settings)
def test_independent_of_record_and_override_order(
    data: st.DataObject, recs: list[CustomerRecord], ovs: list[Override], cfg: IdentitySettings
) -> None:
    expected = resolve(recs, cfg, ovs)
    got = resolve(data.draw(st.permutations(recs)), cfg, data.draw(st.permutations(ovs)))
    assert got == expected
    assert [c.edges for c in got] == [c.edges for c in expected]


@settings(max_examples=200, deadline=None)
@given(recs=record_sets, ovs=override_lists, cfg=identity_settings)
def test_every_live_record_is_in_exactly_one_customer(
    recs: list[CustomerRecord], ovs: list[Override], cfg: IdentitySettings
) -> None:
    customers = resolve(recs, cfg, ovs)
    placed = [r for c in customers for r in c.records]
    assert sorted(placed, key=lambda r: r.ref) == sorted(
        (r for r in recs if not r.deleted), key=lambda r: r.ref
    )
    for c in customers:
        assert c.anchor in {r.ref for r in c.records}
        assert decode_customer_id(encode_customer_id(c.anchor)) == c.anchor


@settings(max_examples=200, deadline=None)
@given(recs=record_sets, cfg=identity_settings)
def test_limit_is_exceeded_only_by_linked_ids(
    recs: list[CustomerRecord], cfg: IdentitySettings
) -> None:
    customers = resolve(recs, cfg)
    owner = {r.ref: i for i, c in enumerate(customers) for r in c.records}
    for c in customers:
        components = linked_components(c.records, cfg)
        for provider in {r.provider for r in c.records}:
            mine = {r.ref for r in c.records_for(provider)}
            if len(mine) > cfg.max_records_per_provider:
                assert any(mine <= comp for comp in components), (provider, mine)
                assert any(
                    x.kind is ConflictKind.GUARDRAIL and set(x.records) == mine for x in c.conflicts
                )
        for conflict in c.conflicts:
            if conflict.kind is ConflictKind.GUARDRAIL and conflict.email is not None:
                left, right = conflict.records
                assert owner[left] != owner[right]  # a refused join keeps them apart


@settings(max_examples=200, deadline=None)
@given(recs=record_sets, ovs=override_lists, cfg=identity_settings)
def test_edges_explain_every_merge(
    recs: list[CustomerRecord], ovs: list[Override], cfg: IdentitySettings
) -> None:
    for c in resolve(recs, cfg, ovs):
        refs = {r.ref for r in c.records}
        reached = {c.anchor}
        grew = True
        while grew:
            grew = False
            for edge in c.edges:
                assert {edge.left, edge.right} <= refs and edge.left < edge.right
                if (edge.left in reached) != (edge.right in reached):
                    reached |= {edge.left, edge.right}
                    grew = True
        assert reached == refs


@settings(max_examples=200, deadline=None)
@given(recs=record_sets, cfg=identity_settings)
def test_resolving_one_customer_again_gives_that_customer(
    recs: list[CustomerRecord], cfg: IdentitySettings
) -> None:
    for customer in resolve(recs, cfg):
        assert resolve(customer.records, cfg) == [internal(customer)]


@settings(max_examples=200, deadline=None)
@given(recs=record_sets, ovs=override_lists, cfg=identity_settings)
def test_overrides_that_hold_are_honoured(
    recs: list[CustomerRecord], ovs: list[Override], cfg: IdentitySettings
) -> None:
    customers = resolve(recs, cfg, ovs)
    owner = {r.ref: i for i, c in enumerate(customers) for r in c.records}
    decisions = decide(ovs, owner.keys())
    for override in decisions.links:
        assert len({owner[ref] for ref in override.records}) == 1
    for c in customers:
        for edge in c.edges:
            if edge.rule is not MatchRule.OVERRIDE:
                assert not {edge.left, edge.right} & decisions.alone
