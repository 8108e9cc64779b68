"""Applying changes: clusters from the pure resolver, ids that last, aliases, deletions."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from gateway.config import IdentitySettings, default_link_rules
from gateway.identity import ConflictKind, MatchKey, encode_customer_id
from gateway.index import ChangeSource, RecordChange, SQLIndex
from gateway.model import CustomerRecord, RecordRef
from tests.identity.test_resolver import fo, lago, stripe, tofu
from tests.index.conftest import IndexFactory

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def seen(record: CustomerRecord, days: float = 0) -> RecordChange:
    return RecordChange(record, at(days), ChangeSource.BACKFILL)


async def members(index: SQLIndex, ref: RecordRef) -> set[str]:
    found = await index.customer_of(ref)
    assert found is not None, ref
    return {str(m) for m in found.members}


async def id_of(index: SQLIndex, ref: RecordRef) -> str:
    found = await index.customer_of(ref)
    assert found is not None, ref
    return found.id


A = stripe("cus_A", email="ann@x.com", created_at=at(-10))
L = lago("ann-ext", email="ann@x.com", created_at=at(-5))
B = lago("bob", email="bob@x.com", created_at=at(-20))


async def test_new_records_form_customers_with_ids_of_their_anchor(index: SQLIndex) -> None:
    applied = await index.apply([seen(A), seen(L), seen(B)])

    ann = encode_customer_id(A.ref)
    assert await id_of(index, L.ref) == ann
    assert await members(index, A.ref) == {"lago:ann-ext", "stripe:cus_A"}
    assert await id_of(index, B.ref) == encode_customer_id(B.ref)
    assert set(applied.changed) == {ann, encode_customer_id(B.ref)}
    customer = await index.customer(ann)
    assert customer is not None
    assert customer.created_at == at(-10)
    assert [e.value for e in customer.edges] == ["ann@x.com"]


async def test_a_bridging_record_merges_and_the_older_id_survives(index: SQLIndex) -> None:
    await index.apply([seen(B)])  # minted first: the older id
    await index.apply([seen(A)])
    bob, ann = encode_customer_id(B.ref), encode_customer_id(A.ref)
    bridge = fo("7", email="ann@x.com", extra_id="bob")  # ann's email, bob's external id

    applied = await index.apply([seen(bridge)])

    assert applied.aliased == {ann: bob}
    assert set(applied.changed) == {ann, bob}
    assert await members(index, A.ref) == {"firstofficer:7", "lago:bob", "stripe:cus_A"}
    survivor = await index.customer(ann)
    assert survivor is not None and survivor.id == bob
    assert survivor.aliases == (ann,)


async def test_aliases_follow_a_second_merge(index: SQLIndex) -> None:
    c = tofu("t1", email="cy@x.com")
    await index.apply([seen(c)])
    await index.apply([seen(B)])
    await index.apply([seen(A)])
    await index.apply([seen(fo("7", email="ann@x.com", extra_id="bob"))])  # ann -> bob
    await index.apply([seen(lago("bob", email="cy@x.com"), 1)])  # bob's record takes cy's email

    cy = encode_customer_id(c.ref)
    for old in (encode_customer_id(A.ref), encode_customer_id(B.ref)):
        found = await index.customer(old)
        assert found is not None and found.id == cy
    assert await id_of(index, A.ref) == cy


async def test_a_split_keeps_the_id_with_the_oldest_record(index: SQLIndex) -> None:
    await index.apply([seen(A), seen(L)])  # one customer, minted from A (the anchor)
    ann = encode_customer_id(A.ref)
    older_lago = dataclasses.replace(L, created_at=at(-30))
    await index.apply([seen(older_lago, 1)])
    assert await id_of(index, L.ref) == ann

    applied = await index.apply([seen(dataclasses.replace(A, email="ann@other.com"), 2)])

    assert await id_of(index, L.ref) == ann  # the lago record is the oldest
    split = await id_of(index, A.ref)
    assert split != ann
    assert set(applied.changed) == {ann, split}
    assert not applied.aliased


async def test_ids_stay_when_an_update_sees_only_some_providers(index: SQLIndex) -> None:
    await index.apply([seen(L)])  # Stripe was down: lago anchors the mint
    first = encode_customer_id(L.ref)
    await index.apply([seen(A)])  # Stripe back: its record joins, the id stays
    assert await id_of(index, A.ref) == first

    await index.apply([seen(dataclasses.replace(L, name="Ann"), 1)])  # only lago changed

    assert await id_of(index, A.ref) == first
    assert await members(index, A.ref) == {"lago:ann-ext", "stripe:cus_A"}


async def test_older_and_repeated_changes_are_ignored(index: SQLIndex) -> None:
    newer = dataclasses.replace(A, email="ann@new.com")
    await index.apply([seen(newer, 2), seen(L)])

    applied = await index.apply([seen(A, 1)])  # older than what the index holds
    again = await index.apply([seen(newer, 2)])  # the same change twice

    assert applied.ignored == 1 and not applied.changed
    assert again.ignored == 1 and not again.changed
    assert await members(index, A.ref) == {"stripe:cus_A"}
    snapshot = await index.records([A.ref])
    assert snapshot[A.ref].email == "ann@new.com"


async def test_in_one_batch_the_newest_version_of_a_record_wins(index: SQLIndex) -> None:
    moved = dataclasses.replace(A, email="ann@new.com")
    applied = await index.apply([seen(moved, 3), seen(A, 1), seen(L), seen(moved, 3)])

    assert applied.ignored == 2
    assert await members(index, A.ref) == {"stripe:cus_A"}


async def test_deleted_records_leave_their_customer(index: SQLIndex) -> None:
    await index.apply([seen(A), seen(L)])
    ann = encode_customer_id(A.ref)

    await index.apply([seen(dataclasses.replace(L, deleted=True), 1)])
    assert await members(index, A.ref) == {"stripe:cus_A"}
    assert await index.customer_of(L.ref) is None
    assert (await index.records([L.ref]))[L.ref].deleted

    applied = await index.apply([seen(dataclasses.replace(A, deleted=True), 1)])
    assert applied.changed == (ann,)
    assert await index.customer(ann) is None
    assert (await index.stats()).customers == 0


async def test_a_custom_link_namespace_joins_records(make_index: IndexFactory) -> None:
    rules = {**default_link_rules(), "crm": ("stripe:metadata.crm", "tofupay:crm_id")}
    index = await make_index(IdentitySettings(link_rules=rules))
    s = CustomerRecord("stripe", "cus_Z", {"id": "cus_Z", "metadata": {"crm": "C-9"}})
    t = CustomerRecord("tofupay", "t9", {"id": "t9", "crm_id": "C-9"})

    await index.apply([seen(s)])
    await index.apply([seen(t)])

    assert await members(index, s.ref) == {"stripe:cus_Z", "tofupay:t9"}
    [found] = await index.customers_by_key(MatchKey("crm", "C-9"))
    assert found.id == encode_customer_id(s.ref)


async def test_emails_join_whatever_their_case_and_whitespace(index: SQLIndex) -> None:
    await index.apply([seen(stripe("cus_W", email=" Wen@Example.COM "))])
    await index.apply([seen(tofu("t2", email="wen@example.com"))])

    assert await members(index, RecordRef("tofupay", "t2")) == {"stripe:cus_W", "tofupay:t2"}
    [found] = await index.customers_by_email("  WEN@example.com")
    assert found.id == encode_customer_id(RecordRef("stripe", "cus_W"))
    assert await index.customers_by_email("n/a") == []


async def test_a_six_hop_chain_is_one_component(make_index: IndexFactory) -> None:
    providers = ["stripe", "lago", "firstofficer", "chartmogul", "tofupay", "stripe", "lago"]
    rules = {**default_link_rules(), "hop": tuple(f"{p}:hops[]" for p in sorted(set(providers)))}
    index = await make_index(IdentitySettings(link_rules=rules))
    chain = [
        CustomerRecord(p, f"r{i}", {"hops": [f"k{i}", f"k{i + 1}"]})
        for i, p in enumerate(providers)
    ]
    for i in (0, 2, 4, 6, 1, 3):
        await index.apply([seen(chain[i])])
    assert len({await id_of(index, chain[i].ref) for i in (0, 2, 4, 6, 1, 3)}) == 2

    applied = await index.apply([seen(chain[5])])  # the last hop joins both halves

    ids = {await id_of(index, r.ref) for r in chain}
    assert len(ids) == 1
    assert await members(index, chain[0].ref) == {str(r.ref) for r in chain}
    assert len(applied.aliased) == 1
    assert (await index.stats()).customers == 1


async def test_guardrail_conflicts_are_stored(index: SQLIndex) -> None:
    crowd = [stripe(f"cus_G{i}", email="team@x.com", created_at=at(i)) for i in range(4)]
    await index.apply([seen(r) for r in crowd])

    found = {c.id: c for c in await index.customers_by_email("team@x.com")}
    assert sorted(len(c.members) for c in found.values()) == [1, 3]
    conflicts = [k for c in found.values() for k in c.conflicts]
    assert conflicts and all(k.kind is ConflictKind.GUARDRAIL for k in conflicts)
    assert {k.email for k in conflicts} == {"team@x.com"}


async def test_customer_reads_and_stored_snapshots(index: SQLIndex) -> None:
    await index.apply([seen(A), seen(L)])

    assert await index.customer("cgw_unknown") is None
    assert await index.customer_of(RecordRef("stripe", "cus_nope")) is None
    snapshots = await index.records([A.ref, L.ref, RecordRef("stripe", "cus_nope")])
    assert snapshots == {A.ref: A, L.ref: L}
    customer = await index.customer(encode_customer_id(A.ref))
    assert customer is not None and customer.members == (L.ref, A.ref)
