"""The masks applied to personal data for callers without ``customers:pii``."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from gateway.auth.scopes import Principal
from gateway.config import IdentitySettings
from gateway.identity import Override, OverrideKind, resolve
from gateway.model import CustomerRecord, RecordRef
from resolvers.identity import IdentityConflict, MatchRule, identity_of
from resolvers.pii import mask_email, mask_emails_in, mask_phone, redact
from resolvers.schema import build_schema
from tests.auth.conftest import PII, READ


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("ada@lovelace.example", "a***@lovelace.example"),
        ("x@y.example", "x***@y.example"),
        ("no-at-sign", "***"),
        ("@domain.example", "***"),
    ],
)
def test_emails_keep_their_first_letter_and_domain(email: str, masked: str) -> None:
    assert mask_email(email) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+442079460134", "+44 ****** 34"),
        ("+44 20 7946 0134", "+44 ****** 34"),
        ("+1 415 555 0100", "+1 ****** 00"),
        ("+353 1 234 5678", "+353 ****** 78"),
        ("020 7946 0134", "****** 34"),
        ("123", "******"),
    ],
)
def test_phones_keep_their_country_code_and_last_two_digits(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_raw_objects_lose_addresses_and_mask_contacts_anywhere() -> None:
    raw = {
        "id": "cus_1",
        "email": "ada@lovelace.example",
        "phone": "+442079460100",
        "address": {"line1": "12 St James's Square", "city": "London"},
        "address_line1": "12 St James's Square",
        "zipcode": "SW1Y 4JH",
        "country": "GB",
        "shipping": {"name": "Ada", "phone": "+442079460100", "address": {"city": "London"}},
        "metadata": {"contact": "billing@lovelace.example", "company_id": "co_1"},
        "emails": ["a@b.example", "c@d.example"],
    }

    assert redact(raw) == {
        "id": "cus_1",
        "email": "a***@lovelace.example",
        "phone": "+44 ****** 00",
        "address": None,
        "address_line1": None,
        "zipcode": None,
        "country": "GB",
        "shipping": {"name": "Ada", "phone": "+44 ****** 00", "address": None},
        "metadata": {"contact": "b***@lovelace.example", "company_id": "co_1"},
        "emails": ["a***@b.example", "c***@d.example"],
    }


def test_emails_inside_text_are_masked() -> None:
    text = "email ada@lovelace.example links stripe:cus_1 and stripe:cus_2; o'neil@x.co.uk too"

    assert mask_emails_in(text) == (
        "email a***@lovelace.example links stripe:cus_1 and stripe:cus_2; o***@x.co.uk too"
    )


def conflict_fields(principal: Principal) -> dict[str, Any]:
    """IdentityConflict's fields through the built schema's resolvers, as ``principal``."""
    conflict = IdentityConflict(
        kind="GUARDRAIL",
        message="email ada@lovelace.example links stripe:cus_1 and stripe:cus_2",
        field="phone",
        email="ada@lovelace.example",
        provider="stripe",
        records=[],
        values=["+442079460100", "+442079460199"],
    )
    info = SimpleNamespace(context=SimpleNamespace(principal=principal))
    fields = build_schema()._schema.type_map["IdentityConflict"].fields
    names = ("message", "email", "values", "provider")
    return {name: fields[name].resolve(conflict, info) for name in names}


def test_identity_conflicts_are_masked_without_the_scope() -> None:
    assert conflict_fields(Principal("reader", frozenset({READ}))) == {
        "message": "email a***@lovelace.example links stripe:cus_1 and stripe:cus_2",
        "email": "a***@lovelace.example",
        "values": ["+44 ****** 00", "+44 ****** 99"],
        "provider": "stripe",
    }
    shown = conflict_fields(Principal("support", frozenset({READ, PII})))
    assert shown["email"] == "ada@lovelace.example"
    assert shown["values"] == ["+442079460100", "+442079460199"]


def test_an_override_edge_is_explained_with_emails_in_its_reason_masked() -> None:
    a, b = RecordRef("stripe", "cus_1"), RecordRef("lago", "acme")
    records = [CustomerRecord(ref.provider, ref.id, {}) for ref in (a, b)]
    reason = "ada@lovelace.example confirmed on a call"
    link = Override(OverrideKind.LINK, (a, b), reason, "ops", datetime(2025, 1, 1, tzinfo=UTC))
    [merged] = resolve(records, IdentitySettings(), [link])
    [edge] = identity_of(merged, truncated=False).edges
    assert (edge.rule, edge.namespace, edge.value) == (MatchRule.OVERRIDE, None, reason)

    resolve_value = build_schema()._schema.type_map["MatchEdge"].fields["value"].resolve
    as_reader = SimpleNamespace(
        context=SimpleNamespace(principal=Principal("r", frozenset({READ})))
    )
    assert resolve_value(edge, as_reader) == "a***@lovelace.example confirmed on a call"
    as_support = SimpleNamespace(
        context=SimpleNamespace(principal=Principal("s", frozenset({READ, PII})))
    )
    assert resolve_value(edge, as_support) == reason
