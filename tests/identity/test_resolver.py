"""Merging records into customers: edges, transitivity, guardrail, anchor, determinism."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from gateway.config import IdentitySettings
from gateway.identity.resolver import MatchEdge, MatchRule, MergedCustomer, resolve
from gateway.identity.survivorship import ConflictKind
from gateway.model import CustomerRecord, RecordRef

SETTINGS = IdentitySettings()
CM_UUID = "cus_de305d54-75b4-431b-adb2-eb6b9e546014"


def stripe(
    id: str, email: str | None = None, company_id: str | None = None, **kw: Any
) -> CustomerRecord:
    metadata = {"company_id": company_id} if company_id else {}
    return CustomerRecord("stripe", id, {"id": id, "metadata": metadata}, email=email, **kw)


def fo(
    id: str,
    email: str | None = None,
    stripe_id: str | None = None,
    extra_id: str | None = None,
    **kw: Any,
) -> CustomerRecord:
    raw = {"id": int(id), "stripe_id": stripe_id, "extra_id": extra_id}
    return CustomerRecord("firstofficer", id, raw, email=email, **kw)


def cm(
    uuid: str, email: str | None = None, external_ids: tuple[str, ...] = (), **kw: Any
) -> CustomerRecord:
    raw = {"uuid": uuid, "external_ids": list(external_ids)}
    return CustomerRecord("chartmogul", uuid, raw, email=email, **kw)


def lago(
    external_id: str, email: str | None = None, stripe_id: str | None = None, **kw: Any
) -> CustomerRecord:
    raw = {"external_id": external_id, "billing_configuration": {"provider_customer_id": stripe_id}}
    return CustomerRecord("lago", external_id, raw, email=email, **kw)


def tofu(id: str, email: str | None = None, **kw: Any) -> CustomerRecord:
    return CustomerRecord("tofupay", id, {"id": id}, email=email, **kw)


def partition(customers: list[MergedCustomer]) -> list[set[str]]:
    return [{str(r.ref) for r in c.records} for c in customers]


def test_one_customer_across_all_linkable_providers() -> None:
    records = [
        stripe("cus_A", email="ann@x.com", company_id="acme"),
        fo("1", stripe_id="cus_A"),
        cm(CM_UUID, external_ids=("cus_A",)),
        lago("acme"),
        tofu("cus_T1", email=" ANN@x.com"),
    ]
    [customer] = resolve(records, SETTINGS)
    assert customer.anchor == RecordRef("stripe", "cus_A")
    assert customer.edges == (
        MatchEdge(
            MatchRule.EMAIL,
            None,
            "ann@x.com",
            RecordRef("stripe", "cus_A"),
            RecordRef("tofupay", "cus_T1"),
        ),
        MatchEdge(
            MatchRule.LINKED_ID,
            "external_id",
            "acme",
            RecordRef("lago", "acme"),
            RecordRef("stripe", "cus_A"),
        ),
        MatchEdge(
            MatchRule.LINKED_ID,
            "stripe_id",
            "cus_A",
            RecordRef("chartmogul", CM_UUID),
            RecordRef("firstofficer", "1"),
        ),
        MatchEdge(
            MatchRule.LINKED_ID,
            "stripe_id",
            "cus_A",
            RecordRef("chartmogul", CM_UUID),
            RecordRef("stripe", "cus_A"),
        ),
    )
    assert customer.conflicts == ()


def test_email_only_group_stays_separate_from_linked_group() -> None:
    records = [
        stripe("cus_A", company_id="acme"),
        lago("acme"),
        tofu("cus_T1", email="ann@x.com"),
        lago("other", email="ANN@x.com "),
    ]
    assert partition(resolve(records, SETTINGS)) == [
        {"stripe:cus_A", "lago:acme"},
        {"lago:other", "tofupay:cus_T1"},
    ]


def test_transitive_chain_email_then_linked() -> None:
    a = tofu("cus_T1", email="Ann@X.com")
    b = stripe("cus_B", email="ann@x.com")
    c = fo("5", stripe_id="cus_B")
    [customer] = resolve([c, a, b], SETTINGS)
    assert {r.ref for r in customer.records} == {a.ref, b.ref, c.ref}
    assert {e.rule for e in customer.edges} == {MatchRule.EMAIL, MatchRule.LINKED_ID}


def test_chartmogul_uuid_in_external_ids_never_links() -> None:
    records = [
        cm(CM_UUID, external_ids=(CM_UUID,)),
        cm("cus_00000000-0000-4000-8000-000000000000", external_ids=(CM_UUID,)),
        fo("1", stripe_id=CM_UUID),
    ]
    assert len(resolve(records, SETTINGS)) == 3


def test_placeholder_and_blank_emails_never_merge() -> None:
    records = [
        stripe("cus_A", email="test@test.com"),
        stripe("cus_B", email="TEST@test.com"),
        lago("x", email="  "),
        lago("y", email=""),
        tofu("cus_T", email="n/a"),
        fo("1", email="N/A"),
    ]
    assert len(resolve(records, SETTINGS)) == 6


def test_two_stripe_duplicates_sharing_an_email_merge() -> None:
    [customer] = resolve(
        [stripe("cus_B", email="a@x.com"), stripe("cus_A", email="A@x.com")], SETTINGS
    )
    assert customer.anchor == RecordRef("stripe", "cus_A")
    assert customer.conflicts == ()


def test_four_stripe_duplicates_do_not_all_merge_and_the_drop_is_reported() -> None:
    records = [stripe(f"cus_{n}", email="a@x.com") for n in "DCBA"] + [lago("L", email="a@x.com")]
    first, second = resolve(records, SETTINGS)
    assert partition([first, second]) == [
        {"stripe:cus_A", "stripe:cus_B", "stripe:cus_C", "lago:L"},
        {"stripe:cus_D"},
    ]
    [conflict] = [c for c in first.conflicts if c.kind is ConflictKind.GUARDRAIL]
    assert conflict.email == "a@x.com"
    assert conflict.provider == "stripe"
    assert conflict.records == (RecordRef("lago", "L"), RecordRef("stripe", "cus_D"))
    assert "not merged" in conflict.message
    assert second.conflicts == (conflict,)


def test_guardrail_tie_joins_the_earliest_created_not_the_smallest_id() -> None:
    """cus_A has the smallest id but is the newest: the older cus_B takes the one Stripe slot."""
    settings = dataclasses.replace(SETTINGS, max_records_per_provider=1)
    records = [
        stripe("cus_A", email="a@x.com", created_at=datetime(2024, 1, 1, tzinfo=UTC)),
        stripe("cus_B", email="a@x.com", created_at=datetime(2020, 1, 1, tzinfo=UTC)),
        lago("L", email="a@x.com", created_at=datetime(2022, 1, 1, tzinfo=UTC)),
    ]
    customers = resolve(records, settings)
    assert partition(customers) == [{"stripe:cus_A"}, {"stripe:cus_B", "lago:L"}]
    [conflict] = customers[0].conflicts
    assert conflict.records == (RecordRef("stripe", "cus_A"), RecordRef("stripe", "cus_B"))
    assert customers[1].conflicts == (conflict,)


def test_guardrail_tie_puts_unknown_creation_last_and_naive_times_as_utc() -> None:
    records = [
        stripe("cus_A", email="a@x.com"),  # unknown: after every dated record
        stripe("cus_B", email="a@x.com", created_at=datetime(2023, 1, 1, 1, tzinfo=UTC)),
        stripe("cus_C", email="a@x.com", created_at=datetime(2023, 1, 1, 0, 30)),  # naive = UTC
        stripe("cus_D", email="a@x.com", created_at=datetime(2022, 1, 1, tzinfo=UTC)),
        stripe("cus_E", email="a@x.com", created_at=datetime(2023, 1, 1, 1, tzinfo=UTC)),
    ]
    # join order D, C, B (equal to E's time, smaller ref), then E and A are refused
    first, second = resolve(records, SETTINGS)
    assert partition([first, second]) == [
        {"stripe:cus_A", "stripe:cus_E"},
        {"stripe:cus_B", "stripe:cus_C", "stripe:cus_D"},
    ]
    assert resolve(reversed(records), SETTINGS) == [first, second]


def test_guardrail_counts_per_provider() -> None:
    records = [stripe(f"cus_{n}", email="a@x.com") for n in "ABC"]
    records += [lago("L1", email="a@x.com"), tofu("cus_T", email="a@x.com")]
    [customer] = resolve(records, SETTINGS)
    assert len(customer.records) == 5
    limit_one = dataclasses.replace(SETTINGS, max_records_per_provider=1)
    assert [len(c.records) for c in resolve(records, limit_one)] == [3, 1, 1]


def test_linked_ids_are_applied_before_emails() -> None:
    """With a limit of 1, the email edge would take the Stripe slot if applied first."""
    settings = dataclasses.replace(SETTINGS, max_records_per_provider=1)
    records = [
        lago("acme", email="ann@x.com"),
        stripe("cus_A", email="ann@x.com"),
        stripe("cus_Z", company_id="acme"),
    ]
    customers = resolve(records, settings)
    assert partition(customers) == [{"stripe:cus_A"}, {"stripe:cus_Z", "lago:acme"}]
    [conflict] = customers[0].conflicts
    assert conflict.records == (RecordRef("lago", "acme"), RecordRef("stripe", "cus_A"))


def test_linked_ids_over_the_limit_are_kept_and_reported() -> None:
    records = [fo(str(n), stripe_id="cus_A") for n in range(1, 5)] + [stripe("cus_A")]
    [customer] = resolve(records, SETTINGS)
    assert len(customer.records_for("firstofficer")) == 4
    [conflict] = customer.conflicts
    assert conflict.kind is ConflictKind.GUARDRAIL
    assert conflict.provider == "firstofficer"
    assert conflict.records == tuple(RecordRef("firstofficer", str(n)) for n in range(1, 5))
    # and an email cannot add a fifth
    more = resolve(
        [*records, fo("9", email="a@x.com"), stripe("cus_A2", email="a@x.com")], SETTINGS
    )
    assert [len(c.records) for c in more] == [5, 2]


def test_deleted_records_are_ignored() -> None:
    records = [
        stripe("cus_A", email="a@x.com"),
        stripe("cus_B", email="a@x.com", company_id="acme", deleted=True),
        lago("acme"),
    ]
    assert partition(resolve(records, SETTINGS)) == [{"stripe:cus_A"}, {"lago:acme"}]
    assert resolve([stripe("cus_A", deleted=True)], SETTINGS) == []


def test_the_same_record_twice_is_one_node() -> None:
    a = stripe("cus_A", email="a@x.com")
    [customer] = resolve([a, a, dataclasses.replace(a)], SETTINGS)
    assert customer.records == (a,)
    assert customer.edges == ()
    # a live copy wins over a deleted copy of the same ref, whatever the order
    gone = dataclasses.replace(a, deleted=True)
    assert resolve([gone, a], SETTINGS) == resolve([a, gone], SETTINGS)
    assert len(resolve([gone, a], SETTINGS)) == 1


def test_anchor_is_the_best_provider_then_smallest_id() -> None:
    records = [
        tofu("cus_T", email="a@x.com"),
        fo("7", email="a@x.com"),
        cm(CM_UUID, email="a@x.com"),
        lago("b", email="a@x.com"),
        lago("a", email="a@x.com"),
    ]
    [customer] = resolve(records, SETTINGS)
    assert customer.anchor == RecordRef("lago", "a")
    assert customer.external_ids == (
        RecordRef("lago", "a"),
        RecordRef("lago", "b"),
        RecordRef("chartmogul", CM_UUID),
        RecordRef("firstofficer", "7"),
        RecordRef("tofupay", "cus_T"),
    )
    [with_stripe] = resolve([*records, stripe("cus_Z", email="a@x.com")], SETTINGS)
    assert with_stripe.anchor == RecordRef("stripe", "cus_Z")


def test_customers_are_sorted_by_anchor_and_records_by_ref() -> None:
    records = [tofu("cus_T"), fo("2"), lago("z"), stripe("cus_B"), stripe("cus_A"), cm(CM_UUID)]
    customers = resolve(records, SETTINGS)
    assert [str(c.anchor) for c in customers] == [
        "stripe:cus_A",
        "stripe:cus_B",
        "lago:z",
        f"chartmogul:{CM_UUID}",
        "firstofficer:2",
        "tofupay:cus_T",
    ]
    [merged] = resolve(
        [lago("z", stripe_id="cus_A"), stripe("cus_A"), fo("2", stripe_id="cus_A")], SETTINGS
    )
    assert [str(r.ref) for r in merged.records] == ["firstofficer:2", "lago:z", "stripe:cus_A"]


def test_merged_customer_fields_emails_created_at_and_records_for() -> None:
    records = [
        stripe("cus_A", email="Ann@X.com", name="Ann", created_at=datetime(2024, 3, 1, tzinfo=UTC)),
        lago(
            "acme",
            email="billing@x.com",
            stripe_id="cus_A",
            company="Acme",
            created_at=datetime(2023, 5, 1, tzinfo=UTC),
        ),
        fo("3", stripe_id="cus_A", name="Ann B."),
    ]
    [c] = resolve(records, SETTINGS)
    assert c.fields["name"].value == "Ann"
    assert c.fields["company"].source == RecordRef("lago", "acme")
    assert c.emails == ("Ann@X.com", "billing@x.com")
    assert c.created_at == datetime(2023, 5, 1, tzinfo=UTC)
    assert [r.id for r in c.records_for("stripe")] == ["cus_A"]
    assert c.records_for("tofupay") == ()
    [name_conflict] = [x for x in c.conflicts if x.field == "name"]
    assert name_conflict.kind is ConflictKind.FIELD
    [email_conflict] = [x for x in c.conflicts if x.field == "email"]
    assert {ref for ref, _ in email_conflict.values} == {
        RecordRef("stripe", "cus_A"),
        RecordRef("lago", "acme"),
    }


def test_input_order_does_not_matter() -> None:
    records = [stripe(f"cus_{n}", email="a@x.com") for n in "ABCD"]
    records += [
        lago("L", email="A@x.com", stripe_id="cus_D"),
        fo("1", stripe_id="cus_B", email="b@x.com"),
    ]
    expected = resolve(records, SETTINGS)
    assert resolve(reversed(records), SETTINGS) == expected
    assert resolve(records[2:] + records[:2], SETTINGS) == expected
    assert resolve(iter(records), SETTINGS) == expected
