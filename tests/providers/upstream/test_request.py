"""What one logical call sends is built without httpx's models: it must be what httpx builds."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.providers.upstream.request import (
    encode_body,
    merged_headers,
    request_headers,
    sent_as_written,
)

BASE = "https://api.example.com/v1/"
PIECES = [chr(c) for c in range(0x20, 0x7F)] + ["%2F", "%zz", "%41", "ü", "\x00", "\t", "./", "../"]
TAKEN_AS_WRITTEN = [*"aZ09-._~!$&'()*+,;=:@/?%", "%2F", "%41", "%e9", "./", "../"]
URL_TEXT = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=30),
    st.lists(st.sampled_from(TAKEN_AS_WRITTEN), max_size=30),
).map("".join)


@given(URL_TEXT)
@example("customers/cus_1")
@example("customers/a/../b")
@example("customers/.well-known")
@example("x?q=a%3Ab&expand%5B%5D=x&limit=10")
@example("x?")
def test_a_url_taken_as_written_is_what_httpx_sends(rest: str) -> None:
    if sent_as_written(rest):
        assert str(httpx.URL(BASE + rest)) == BASE + rest


@pytest.mark.parametrize(
    "rest",
    [
        "customers/cus_NffrFeUfNV2Hib",
        "customers/search?query=email%3A%27a%40b.c%27&limit=10",
        "customers?email=a%2Bb%40x.example&limit=100&expand%5B%5D=data.sources",
        "api/v1/customers/ext-42/current_usage?external_subscription_id=sub_1",
    ],
)
def test_ordinary_provider_urls_skip_parsing(rest: str) -> None:
    assert sent_as_written(rest)
    assert sent_as_written(rest.split("?")[0] + "?" + str(httpx.QueryParams(rest.split("?")[-1])))


@pytest.mark.parametrize(
    ("data", "json_body"),
    [
        ({"a": "1", "b": ["x", "y"], "t": True, "f": False, "n": None, "i": 3}, None),
        ({"email": "ü+1@x.example", "q": "a b&c=d"}, None),
        ({}, {"name": "Jürgen", "n": [1, 2.5, None], "ok": False}),
        (None, {"nested": {"emoji": "\U0001f600", "quote": '"'}}),
        (None, None),
        ({}, None),
    ],
)
def test_bodies_are_encoded_as_httpx_encodes_them(data: Any, json_body: Any) -> None:
    expected = httpx.Request("POST", BASE, data=data, json=json_body)
    body, content_type = encode_body(data, json_body)
    assert (body or b"") == expected.content
    assert content_type == expected.headers.get("content-type")


def test_form_pairs_keep_their_order_and_repeats() -> None:
    pairs = [("b", "2"), ("a", "1"), ("b", "3"), ("c", True)]
    assert encode_body(pairs, {"ignored": 1}) == (
        b"b=2&a=1&b=3&c=true",
        "application/x-www-form-urlencoded",
    )


def test_request_headers_override_the_clients_as_httpx_merges_them() -> None:
    base = CIMultiDictProxy(CIMultiDict({"Accept": "application/json", "Authorization": "A"}))
    own = request_headers({"accept": "text/plain", "X-Trace": "1"}, "idem-1")
    merged = merged_headers(base, own, "application/json")
    expected = httpx.Headers(dict(base))
    expected.update({"accept": "text/plain", "X-Trace": "1", "Idempotency-Key": "idem-1"})
    expected.setdefault("Content-Type", "application/json")
    assert sorted((k.lower(), v) for k, v in merged.items()) == sorted(expected.items())
    assert merged_headers(base, request_headers(None, None), None) is base  # nothing to copy
    assert merged_headers(base, {}, None)["authorization"] == "A"
