"""The public customer id: stable, opaque, strictly decoded."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.identity.ids import InvalidCustomerId, decode_customer_id, encode_customer_id
from gateway.model import RecordRef
from gateway.providers.registry import PROVIDERS


def b64(text: str) -> str:
    return "cgw_" + base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_format_is_prefixed_unpadded_urlsafe_base64() -> None:
    encoded = encode_customer_id(RecordRef("stripe", "cus_NffrFeUfNV2Hib"))
    assert encoded == b64("cust:v1:stripe:cus_NffrFeUfNV2Hib")
    assert encoded.startswith("cgw_") and "=" not in encoded
    assert decode_customer_id(encoded) == RecordRef("stripe", "cus_NffrFeUfNV2Hib")


def test_ids_may_contain_colons_and_any_text() -> None:
    ref = RecordRef("lago", "acme:eu/1 ü?")
    encoded = encode_customer_id(ref)
    assert all(ch.isalnum() or ch in "_-" for ch in encoded)
    assert decode_customer_id(encoded) == ref


def test_same_anchor_same_id() -> None:
    assert encode_customer_id(RecordRef("firstofficer", "42")) == encode_customer_id(
        RecordRef("firstofficer", "42")
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "must start with 'cgw_'"),
        ("cus_abc", "must start with 'cgw_'"),
        ("CGW_" + b64("cust:v1:stripe:cus_A")[4:], "must start with 'cgw_'"),
        ("cgw_", "not URL-safe base64"),
        ("cgw_abc+def", "not URL-safe base64"),
        ("cgw_abc/def", "not URL-safe base64"),
        (b64("cust:v1:stripe:cus_AB") + "==", "not URL-safe base64"),
        ("cgw_a", "not valid base64"),
        ("cgw_" + base64.urlsafe_b64encode(b"\xff\xfe").decode().rstrip("="), "not valid base64"),
        (b64("cust:v2:stripe:cus_A"), "unknown format version"),
        (b64("stripe:cus_A"), "unknown format version"),
        (b64("cust:v1:stripe"), "no record id"),
        (b64("cust:v1:stripe:"), "empty record id"),
        (b64("cust:v1:paypal:cus_A"), "unknown provider 'paypal'"),
        (b64("cust:v1::x"), "unknown provider ''"),
        ("cgw_" + "A" * 3000, "longer than"),
    ],
)
def test_malformed_ids_are_rejected_with_a_clear_message(value: str, message: str) -> None:
    with pytest.raises(InvalidCustomerId, match=message.replace("+", r"\+")):
        decode_customer_id(value)


def test_non_canonical_base64_is_rejected() -> None:
    canonical = encode_customer_id(RecordRef("stripe", "cus_A"))  # length leaves spare bits
    assert len(canonical[4:]) % 4 != 0
    last = canonical[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    tweaked = canonical[:-1] + alphabet[alphabet.index(last) + 1]
    assert base64.urlsafe_b64decode(tweaked[4:] + "==") == base64.urlsafe_b64decode(
        canonical[4:] + "=="
    )
    with pytest.raises(InvalidCustomerId, match="canonical"):
        decode_customer_id(tweaked)


def test_invalid_customer_id_is_a_value_error() -> None:
    assert issubclass(InvalidCustomerId, ValueError)


@pytest.mark.parametrize("ref", [RecordRef("paypal", "x"), RecordRef("stripe", "")])
def test_encoding_refuses_what_decoding_would_refuse(ref: RecordRef) -> None:
    with pytest.raises(InvalidCustomerId):
        encode_customer_id(ref)


@settings(max_examples=200, deadline=None)
@given(provider=st.sampled_from(PROVIDERS), record_id=st.text(min_size=1, max_size=60))
def test_round_trip(provider: str, record_id: str) -> None:
    ref = RecordRef(provider, record_id)
    encoded = encode_customer_id(ref)
    assert encoded.startswith("cgw_")
    assert decode_customer_id(encoded) == ref


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40).map(lambda s: "cgw_" + s) | st.text(max_size=40))
def test_any_string_either_round_trips_or_is_rejected(value: str) -> None:
    try:
        ref = decode_customer_id(value)
    except InvalidCustomerId:
        return
    assert encode_customer_id(ref) == value
