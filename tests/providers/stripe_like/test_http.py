"""The Stripe-style key reading and check (Bearer or Basic ``key:``, one constant-time compare)."""

from __future__ import annotations

import base64

import pytest
from starlette.requests import Request

from gateway.providers.stripe_like.simulator.http import is_authorized, mask_key, presented_key


def request_with(authorization: str | None) -> Request:
    headers = [] if authorization is None else [(b"authorization", authorization.encode())]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Bearer abc", "abc"),
        ("BEARER abc", "abc"),
        ("Bearer", None),
        (f"Basic {base64.b64encode(b'abc:').decode()}", "abc"),
        (f"Basic {base64.b64encode(b'abc:pw:x').decode()}", "abc"),
        (f"Basic {base64.b64encode(b'abc').decode()}", "abc"),
        (f"Basic {base64.b64encode(b':pw').decode()}", None),
        (f"Basic {base64.b64encode(bytes([0xFF, 0xFE])).decode()}", None),
        ("Basic %%%", None),
        ('Token token="abc"', None),
        (None, None),
    ],
)
def test_presented_key(header: str | None, key: str | None) -> None:
    assert presented_key(request_with(header)) == key
    assert is_authorized(request_with(header), "abc") is (key == "abc")


def test_mask_key_keeps_the_prefix_and_last_four() -> None:
    assert mask_key("sk_test_0123456789abcd") == "sk_test_" + "*" * 10 + "abcd"
    assert mask_key("sk_live_short") == "sk_live_*****"
    assert mask_key("whatever-key-1234") == "*" * 13 + "1234"
