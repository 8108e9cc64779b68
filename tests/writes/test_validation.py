"""Input validation: every rule, without I/O."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import FieldError
from gateway.model import UNSET, Address, CustomerWrite
from gateway.writes.validation import (
    normalise_write,
    validate_idempotency_key,
    validate_providers,
    validate_write,
)

KEY = "company_id"


def errors(write: CustomerWrite, **options: Any) -> list[tuple[tuple[str, ...], str]]:
    options.setdefault("creating", True)
    found = validate_write(normalise_write(write), external_id_key=KEY, **options)
    return [(e.path, e.code) for e in found]


def test_a_complete_input_is_valid_for_every_provider() -> None:
    write = CustomerWrite(
        email="ada@lovelace.example",
        name="Ada",
        phone="+44 20 7946 0000",
        address=Address(line1="12 St James's Sq", city="London", country="gb"),
        currency="GBP",
        metadata={"plan": "pro"},
        external_id="co_ada",
        data_source_uuid="ds_9c2d7e44-1b5a-4f3e-8d60-7a1e2b9c5d22",
    )
    targets = ["stripe", "lago", "chartmogul", "firstofficer", "tofupay"]
    assert errors(write, targets=targets, creates_stripe=True) == []


@pytest.mark.parametrize(
    ("write", "path", "code"),
    [
        (CustomerWrite(email="ada"), ("input", "email"), "INVALID_EMAIL"),
        (CustomerWrite(email="ada@localhost"), ("input", "email"), "INVALID_EMAIL"),
        (CustomerWrite(email="a" * 520 + "@x.example"), ("input", "email"), "TOO_LONG"),
        (CustomerWrite(name="n" * 256), ("input", "name"), "TOO_LONG"),
        (CustomerWrite(phone="1" * 21), ("input", "phone"), "TOO_LONG"),
        (CustomerWrite(description="d" * 5001), ("input", "description"), "TOO_LONG"),
        (CustomerWrite(company=""), ("input", "company"), "BLANK"),
        (CustomerWrite(currency="euro"), ("input", "currency"), "INVALID_CURRENCY"),
        (CustomerWrite(currency="XYZ"), ("input", "currency"), "INVALID_CURRENCY"),
        (
            CustomerWrite(address=Address(country="UK")),
            ("input", "address", "country"),
            "INVALID_COUNTRY",
        ),
        (
            CustomerWrite(address=Address(country="GBR")),
            ("input", "address", "country"),
            "INVALID_COUNTRY",
        ),
        (
            CustomerWrite(address=Address(city="c" * 201)),
            ("input", "address", "city"),
            "TOO_LONG",
        ),
        (CustomerWrite(address=Address(city="  ")), ("input", "address"), "BLANK"),
        (
            CustomerWrite(stripe_id="cus_de305d54-75b4-431b-adb2-eb6b9e546012"),
            ("input", "stripeId"),
            "INVALID_FORMAT",
        ),
        (
            CustomerWrite(data_source_uuid="ds_1"),
            ("input", "chartmogulDataSourceUuid"),
            "INVALID_FORMAT",
        ),
    ],
)
def test_field_rules(write: CustomerWrite, path: tuple[str, ...], code: str) -> None:
    assert errors(write) == [(path, code)]


def test_lengths_are_counted_after_trimming_and_description_is_kept() -> None:
    write = normalise_write(
        CustomerWrite(name="  Ada  ", description="  as typed\n", currency=" EUR ")
    )
    assert (write.name, write.description, write.currency) == ("Ada", "  as typed\n", "eur")
    address = normalise_write(CustomerWrite(address=Address(country=" gb ", city=" "))).address
    assert address == Address(country="GB")


def test_metadata_limits() -> None:
    too_many = {f"k{i}": "v" for i in range(51)}
    assert errors(CustomerWrite(metadata=too_many)) == [
        (("input", "metadata"), "METADATA_TOO_MANY_KEYS")
    ]
    assert errors(CustomerWrite(metadata={f"k{i}": "v" for i in range(50)})) == []
    assert errors(CustomerWrite(metadata={"k" * 40: "v" * 500})) == []
    assert errors(
        CustomerWrite(metadata={"k" * 41: "v", "a]": "v", "ok": "v" * 501, KEY: "x", " ": "v"})
    ) == [
        (("input", "metadata", "k" * 41), "METADATA_KEY_TOO_LONG"),
        (("input", "metadata", "a]"), "METADATA_KEY_INVALID"),
        (("input", "metadata", "ok"), "METADATA_VALUE_TOO_LONG"),
        (("input", "metadata", KEY), "METADATA_KEY_RESERVED"),
        (("input", "metadata", " "), "METADATA_KEY_INVALID"),
    ]
    not_strings: Any = {"n": 1, "m": None}
    assert errors(CustomerWrite(metadata=not_strings)) == [
        (("input", "metadata", "n"), "METADATA_INVALID"),
        (("input", "metadata", "m"), "METADATA_INVALID"),
    ]
    not_an_object: Any = ["a"]
    assert errors(CustomerWrite(metadata=not_an_object)) == [
        (("input", "metadata"), "METADATA_INVALID")
    ]


def test_required_fields_per_target_provider() -> None:
    empty = CustomerWrite(phone="+1 555 0100")
    assert errors(empty, targets=["stripe"]) == []
    assert errors(empty, targets=["lago"]) == [
        (("input", "externalId"), "REQUIRED"),
        (("input", "name"), "REQUIRED"),
    ]
    assert errors(empty, targets=["chartmogul"]) == [
        (("input", "chartmogulDataSourceUuid"), "REQUIRED"),
        (("input", "name"), "REQUIRED"),
        (("input", "externalId"), "REQUIRED"),
    ]
    assert errors(empty, targets=["firstofficer", "tofupay"]) == [(("input", "email"), "REQUIRED")]
    named = CustomerWrite(name="Cm", data_source_uuid="ds_9c2d7e44-1b5a-4f3e-8d60-7a1e2b9c5d22")
    # ChartMogul's external id may come from a Stripe record created in the same call.
    assert errors(named, targets=["chartmogul"], creates_stripe=True) == []
    assert errors(named, targets=["chartmogul"]) == [(("input", "externalId"), "REQUIRED")]
    linked = CustomerWrite(name="Cm", data_source_uuid=named.data_source_uuid, stripe_id="cus_A1")
    assert errors(linked, targets=["chartmogul"]) == []


def test_stripe_id_conflicts_with_creating_in_stripe() -> None:
    write = CustomerWrite(stripe_id="cus_A1")
    assert errors(write, targets=["stripe"], creates_stripe=True) == [
        (("input", "stripeId"), "CONFLICT")
    ]


def test_firstofficer_would_misread_some_external_ids() -> None:
    for value in ("12345", "cus_123", "a@b"):
        write = CustomerWrite(email="a@b.example", external_id=value)
        assert errors(write, targets=["firstofficer"]) == [
            (("input", "externalId"), "INVALID_FORMAT")
        ]
        assert errors(write, targets=["stripe"]) == []


def test_update_rules() -> None:
    assert errors(CustomerWrite(), creating=False) == [(("input",), "EMPTY_INPUT")]
    assert errors(CustomerWrite(phone=None, name=None), creating=False) == []  # clears
    clear_email = CustomerWrite(email=None)
    assert errors(clear_email, creating=False, targets=["stripe"]) == []
    assert errors(clear_email, creating=False, targets=["firstofficer"]) == [
        (("input", "email"), "NOT_CLEARABLE")
    ]
    assert errors(CustomerWrite(metadata=None), creating=False, targets=["stripe"]) == [
        (("input", "metadata"), "NOT_CLEARABLE")
    ]
    assert errors(CustomerWrite(metadata=None), creating=False, targets=["lago"]) == []
    rename = CustomerWrite(external_id="co_new")
    assert errors(rename, creating=False, targets=["lago"], record_ids={"lago": ["co_old"]}) == [
        (("input", "externalId"), "NOT_CHANGEABLE")
    ]
    same = CustomerWrite(external_id="co_old")
    assert errors(same, creating=False, targets=["lago"], record_ids={"lago": ["co_old"]}) == []
    assert errors(
        CustomerWrite(data_source_uuid="ds_9c2d7e44-1b5a-4f3e-8d60-7a1e2b9c5d22"), creating=False
    ) == [(("input", "chartmogulDataSourceUuid"), "NOT_CHANGEABLE")]


def test_null_on_create_means_nothing_to_store() -> None:
    assert errors(CustomerWrite(phone=None, address=None), targets=["stripe"]) == []


def test_providers_and_idempotency_keys() -> None:
    assert validate_providers(None, {"stripe"}) == []
    assert validate_providers(["stripe"], {"stripe"}) == []
    assert validate_providers([], {"stripe"}) == [
        FieldError(("providers",), "name at least one provider, or leave it out", "REQUIRED")
    ]
    [problem] = validate_providers(["stripe", "lago"], {"stripe"})
    assert (problem.path, problem.code) == (("providers", "1"), "PROVIDER_NOT_CONFIGURED")
    assert validate_idempotency_key(None) == []
    assert validate_idempotency_key("k" * 255) == []
    assert [e.code for e in validate_idempotency_key("k" * 256)] == ["INVALID_IDEMPOTENCY_KEY"]
    assert [e.code for e in validate_idempotency_key(" ")] == ["BLANK"]


def test_unset_fields_are_never_checked() -> None:
    assert CustomerWrite().email is UNSET
    assert errors(CustomerWrite(), targets=["stripe"]) == []
