"""Snapshots: a record survives the trip through JSON text whole (but ``details``)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.identity.survivorship import Conflict, ConflictKind
from gateway.index.serialise import (
    dump_conflict,
    dump_record,
    load_conflict,
    load_record,
    load_snapshot,
)
from gateway.model import Address, CustomerRecord, Metric, Money, RecordDetails, RecordRef

FULL = CustomerRecord(
    provider="stripe",
    id="cus_A",
    raw={"id": "cus_A", "metadata": {"company_id": "acme"}, "n": [1, 2.5, None, True]},
    email=" Ann@X.com ",
    name="Ann Ó",
    phone="+44 20",
    company="Acme",
    address=Address("1 St", None, "London", None, "N1", "gb"),
    currency="gbp",
    created_at=datetime(2024, 5, 1, 12, 30, 1, 123456, tzinfo=UTC),
    status="active",
    metrics={Metric.MRR: Money(1200, "gbp"), Metric.CURRENT_SUBSCRIPTION_COUNT: 3},
    deleted=False,
)


def test_every_field_round_trips() -> None:
    assert load_record(dump_record(FULL)) == FULL


def test_a_snapshot_is_parsed_once_per_text() -> None:
    text = dump_record(FULL)
    other = dump_record(dataclasses.replace(FULL, name="Bea"))

    first = load_snapshot(text)

    assert first == FULL
    assert load_snapshot("".join(text)) is first  # equal text, not the same string object
    assert load_snapshot(other) == dataclasses.replace(FULL, name="Bea")


def test_naive_times_and_deletions_round_trip() -> None:
    record = dataclasses.replace(FULL, created_at=datetime(2024, 1, 1), deleted=True, address=None)
    assert load_record(dump_record(record)) == record


def test_details_are_dropped() -> None:
    class Extra(RecordDetails):
        __slots__ = ()

    record = dataclasses.replace(FULL, details=Extra())
    assert load_record(dump_record(record)) == FULL


def test_equal_records_give_equal_text() -> None:
    reordered = dataclasses.replace(FULL, raw=dict(reversed(list(FULL.raw.items()))))
    assert dump_record(reordered) == dump_record(FULL)


texts = st.none() | st.text(max_size=12)


@given(
    email=texts,
    name=texts,
    company=texts,
    amount=st.integers(min_value=-(2**53), max_value=2**53),
    raw=st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=4),
    deleted=st.booleans(),
)
def test_any_record_round_trips(
    email: str | None,
    name: str | None,
    company: str | None,
    amount: int,
    raw: dict[str, object],
    deleted: bool,
) -> None:
    record = dataclasses.replace(
        FULL,
        email=email,
        name=name,
        company=company,
        raw=raw,
        metrics={Metric.BALANCE: Money(amount, "usd")},
        deleted=deleted,
    )
    assert load_record(dump_record(record)) == record


def test_guardrail_conflicts_round_trip_and_field_conflicts_are_refused() -> None:
    guardrail = Conflict(
        kind=ConflictKind.GUARDRAIL,
        message="not merged",
        email="a@x.com",
        provider="stripe",
        records=(RecordRef("stripe", "cus_A"), RecordRef("stripe", "cus_B")),
    )
    assert load_conflict(dump_conflict(guardrail)) == guardrail
    with pytest.raises(ValueError, match="guardrail"):
        dump_conflict(dataclasses.replace(guardrail, kind=ConflictKind.FIELD))
