"""assemble(): one customer from records the index says are one, as resolve() would show it."""

from __future__ import annotations

import pytest

from gateway.config import IdentitySettings
from gateway.identity import Conflict, ConflictKind, assemble, resolve
from gateway.model import RecordRef
from tests.identity.test_resolver import fo, lago, stripe

SETTINGS = IdentitySettings()


def test_the_same_customer_resolve_gives() -> None:
    records = [
        lago("acme", email="Ann@x.com", stripe_id="cus_A", name="Ann L"),
        stripe("cus_A", email="ann@x.com", name="Ann S"),
        fo("7", email="ann@x.com", stripe_id="cus_A", name="Ann F"),
    ]
    (resolved,) = resolve(records, SETTINGS)
    assembled = assemble(reversed(records), resolved.edges, resolved.conflicts, SETTINGS)
    assert assembled == resolved


def test_records_the_data_no_longer_joins_stay_one_customer() -> None:
    """The index decided these are one (an override, or data since changed): kept together."""
    records = [stripe("cus_A", email="a@x.com"), fo("7", email="b@x.com")]
    assert len(resolve(records, SETTINGS)) == 2
    merged = assemble(records, (), (), SETTINGS)
    assert merged.anchor == RecordRef("stripe", "cus_A")
    assert {r.ref for r in merged.records} == {
        RecordRef("stripe", "cus_A"),
        RecordRef("firstofficer", "7"),
    }
    assert merged.emails == ("a@x.com", "b@x.com")


def test_stored_guardrail_conflicts_are_kept_once_and_field_conflicts_recomputed() -> None:
    guardrail = Conflict(
        kind=ConflictKind.GUARDRAIL,
        message="email a@x.com links stripe:cus_A and stripe:cus_B, not merged",
        email="a@x.com",
        provider="stripe",
        records=(RecordRef("stripe", "cus_A"), RecordRef("stripe", "cus_B")),
    )
    stale_field = Conflict(kind=ConflictKind.FIELD, message="old", field="name")
    records = [stripe("cus_A", email="a@x.com", name="A"), fo("7", email="a@x.com", name="B")]
    merged = assemble(records, (), (guardrail, guardrail, stale_field), SETTINGS)
    kinds = [c.kind for c in merged.conflicts]
    assert kinds.count(ConflictKind.GUARDRAIL) == 1
    assert stale_field not in merged.conflicts
    assert [c.field for c in merged.conflicts if c.kind is ConflictKind.FIELD] == ["name"]


def test_deleted_records_are_left_out_and_none_left_is_an_error() -> None:
    gone = stripe("cus_A", email="a@x.com", deleted=True)
    with pytest.raises(ValueError, match="at least one live record"):
        assemble([gone], (), (), SETTINGS)
