"""Which value a merged customer shows per field, and which disagreements it reports."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.config import IdentitySettings
from gateway.identity import survivorship
from gateway.identity.survivorship import (
    ConflictKind,
    FieldValue,
    provider_order,
    rank_records,
    survive,
)
from gateway.model import Address, CustomerRecord, RecordRef

SETTINGS = IdentitySettings()


def rec(provider: str, id: str, **kw: Any) -> CustomerRecord:
    return CustomerRecord(provider, id, {}, **kw)


def at(day: int) -> datetime:
    return datetime(2024, 1, day, tzinfo=UTC)


def test_default_priorities_per_field() -> None:
    records = [
        rec("tofupay", "t1", name="Tofu", currency="jpy", phone="+1 555 0100"),
        rec("chartmogul", "c1", name="CM", company="CM Co", status="Active", currency="gbp"),
        rec("lago", "l1", name="Lago", company="Lago Co", currency="eur"),
        rec("stripe", "s1", name="Stripe", company="Stripe Co", status="delinquent"),
        rec("firstofficer", "f1", status="churned", currency="usd"),
    ]
    fields = survive(records, SETTINGS).fields
    assert fields["name"] == FieldValue("Stripe", RecordRef("stripe", "s1"))
    assert fields["company"] == FieldValue("Lago Co", RecordRef("lago", "l1"))
    assert fields["status"] == FieldValue("Active", RecordRef("chartmogul", "c1"))
    assert fields["currency"] == FieldValue("eur", RecordRef("lago", "l1"))  # stripe has none
    assert fields["phone"] == FieldValue("+1 555 0100", RecordRef("tofupay", "t1"))
    assert "email" not in fields and "address" not in fields


def test_empty_values_never_win() -> None:
    records = [
        rec("stripe", "s1", name="  ", email="n/a", address=Address()),
        rec("lago", "l1", name="Ann", email="ann@x.com", address=Address(city="Oslo")),
    ]
    fields = survive(records, SETTINGS).fields
    assert fields["name"].source == RecordRef("lago", "l1")
    assert fields["email"] == FieldValue("ann@x.com", RecordRef("lago", "l1"))
    assert fields["address"].value == Address(city="Oslo")


def test_values_are_trimmed() -> None:
    fields = survive([rec("stripe", "s1", name="  Ann Lee ")], SETTINGS).fields
    assert fields["name"].value == "Ann Lee"


def test_custom_priority_from_settings() -> None:
    settings = dataclasses.replace(SETTINGS, field_priority={"name": ("chartmogul", "stripe")})
    records = [rec("stripe", "s1", name="S"), rec("chartmogul", "c1", name="C")]
    assert survive(records, settings).fields["name"].source == RecordRef("chartmogul", "c1")
    # other fields keep their defaults
    records += [rec("lago", "l1", company="L"), rec("stripe", "s2", company="S")]
    assert survive(records, settings).fields["company"].source == RecordRef("lago", "l1")


def test_unlisted_providers_rank_after_listed_ones_in_anchor_order() -> None:
    assert provider_order("company", SETTINGS) == (
        "lago",
        "chartmogul",
        "stripe",
        "firstofficer",
        "tofupay",
    )
    fields = survive([rec("tofupay", "t1", company="T Co")], SETTINGS).fields
    assert fields["company"].value == "T Co"


def test_ties_inside_a_provider_newest_then_smallest_id() -> None:
    older = rec("stripe", "cus_a", name="Old", created_at=at(1))
    newer_b = rec("stripe", "cus_b", name="New B", created_at=at(5))
    newer_c = rec("stripe", "cus_c", name="New C", created_at=at(5))
    unknown = rec("stripe", "cus_0", name="Unknown date")
    ranked = rank_records("name", [unknown, newer_c, older, newer_b], SETTINGS)
    assert [r.id for r in ranked] == ["cus_b", "cus_c", "cus_a", "cus_0"]
    fields = survive([newer_c, older, unknown, newer_b], SETTINGS).fields
    assert fields["name"] == FieldValue("New B", RecordRef("stripe", "cus_b"))


def test_naive_created_at_is_taken_as_utc() -> None:
    naive = rec("stripe", "cus_a", name="Naive", created_at=datetime(2024, 1, 9))
    aware = rec("stripe", "cus_b", name="Aware", created_at=at(2))
    assert survive([aware, naive], SETTINGS).fields["name"].value == "Naive"


def test_disagreements_are_listed_best_first() -> None:
    records = [
        rec("lago", "l1", name="Ann Smith"),
        rec("stripe", "s1", name="Ann Lee"),
        rec("chartmogul", "c1", name="ann   lee"),
    ]
    survived = survive(records, SETTINGS)
    [conflict] = survived.conflicts
    assert conflict.kind is ConflictKind.FIELD
    assert conflict.field == "name"
    assert conflict.values == (
        (RecordRef("stripe", "s1"), "Ann Lee"),
        (RecordRef("lago", "l1"), "Ann Smith"),
        (RecordRef("chartmogul", "c1"), "ann   lee"),
    )
    assert "2 different values" in conflict.message


def test_formatting_differences_are_not_conflicts() -> None:
    records = [
        rec("stripe", "s1", name="Ann  Lee", email="Ann@X.com", phone="+1 (555) 010-0000"),
        rec(
            "lago",
            "l1",
            name="ann lee",
            email=" ann@x.com",
            phone="+15550100000",
            address=Address(city="Oslo ", country="NO"),
        ),
        rec("chartmogul", "c1", address=Address(city="oslo", country="no"), email="n/a"),
    ]
    assert survive(records, SETTINGS).conflicts == ()


def test_field_conflicts_for_address_email_and_phone() -> None:
    records = [
        rec("stripe", "s1", email="a@x.com", phone="111", address=Address(city="Oslo")),
        rec("lago", "l1", email="b@x.com", phone="222", address=Address(city="Bergen")),
    ]
    conflicts = survive(records, SETTINGS).conflicts
    assert [c.field for c in conflicts] == ["email", "phone", "address"]
    address = conflicts[2]
    assert address.values == (
        (RecordRef("stripe", "s1"), Address(city="Oslo")),
        (RecordRef("lago", "l1"), Address(city="Bergen")),
    )


def test_emails_distinct_by_matching_form_primary_first() -> None:
    records = [
        rec("lago", "l1", email="zed@x.com"),
        rec("stripe", "s1", email="Ann@X.com"),
        rec("chartmogul", "c1", email="ann@x.com"),
        rec("firstofficer", "f1", email="bob@x.com"),
        rec("tofupay", "t1", email="test@test.com"),
    ]
    survived = survive(records, SETTINGS)
    assert survived.fields["email"].value == "Ann@X.com"
    assert survived.emails == ("Ann@X.com", "bob@x.com", "zed@x.com")


def test_no_records_with_values_gives_no_fields() -> None:
    survived = survive([rec("stripe", "s1")], SETTINGS)
    assert dict(survived.fields) == {}
    assert survived.emails == ()
    assert survived.conflicts == ()


def test_a_field_is_decided_only_when_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """A page reads a few fields of many customers: the others cost nothing."""
    asked: list[str] = []
    original = survivorship.field_value

    def counting(field: str, record: CustomerRecord, settings: IdentitySettings) -> Any:
        asked.append(field)
        return original(field, record, settings)

    monkeypatch.setattr(survivorship, "field_value", counting)
    records = [
        rec("stripe", "s1", name="Ann", email="ann@x.com", company="A Co"),
        rec("lago", "l1", name="Ann L", company="A Company"),
    ]
    survived = survive(records, SETTINGS)
    assert survived.fields["name"] == FieldValue("Ann", RecordRef("stripe", "s1"))
    assert survived.fields.get("name") is not None  # decided once
    assert asked == ["name", "name"]
    assert [c.field for c in survived.conflicts] == ["name", "company"]
    assert set(asked) == set(survivorship.FIELDS)


def test_fields_read_lazily_are_the_ones_decided_at_once() -> None:
    records = [
        rec("stripe", "s1", name="Ann", email="ANN@x.com", currency="usd", created_at=at(2)),
        rec("lago", "l1", name="Ann Lee", email="ann@x.com", phone="555", created_at=at(1)),
        rec("chartmogul", "c1", email="other@x.com", status="Active", company="A Co"),
    ]
    one_by_one = survive(records, SETTINGS)
    picked = {name: one_by_one.fields[name] for name in ("status", "phone", "email", "name")}
    at_once = survive(list(reversed(records)), SETTINGS)
    assert dict(at_once.fields) == {**dict(one_by_one.fields), **picked}
    assert list(at_once.fields) == ["name", "email", "phone", "company", "currency", "status"]
    assert len(at_once.fields) == 6 and "address" not in at_once.fields
    assert at_once == one_by_one
    assert at_once.emails == ("ANN@x.com", "other@x.com")
    assert survive(records[:2], SETTINGS) != one_by_one
