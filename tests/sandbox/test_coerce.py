"""The value checks the simulators share."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette

from gateway.sandbox.coerce import email_key, is_int, optional_text, query_int, refuse_unknown
from gateway.sandbox.stores import attach_store, store_of


def test_is_int_is_a_json_integer() -> None:
    assert [is_int(v) for v in (0, -3, 10**20)] == [True, True, True]
    assert [is_int(v) for v in (True, False, 1.0, "1", None)] == [False] * 5


def test_email_key_ignores_case_and_surrounding_space() -> None:
    assert email_key("  Ada@Example.COM ") == email_key("ada@example.com") == "ada@example.com"


def test_optional_text_takes_strings_and_null_only() -> None:
    assert optional_text({"a": "x"}, "a") == "x"
    assert optional_text({"a": None}, "a") is None
    assert optional_text({}, "a") is None
    with pytest.raises(ValueError, match=r"^a must be a string or null, not 5$"):
        optional_text({"a": 5}, "a")


def test_refuse_unknown_names_every_unknown_field() -> None:
    refuse_unknown({"a": 1}, ("a", "b"), "thing")
    with pytest.raises(ValueError, match=r"^unknown thing fields: c, d$"):
        refuse_unknown({"d": 1, "a": 1, "c": 1}, ("a",), "thing")


def test_query_int_is_none_unless_a_whole_number() -> None:
    assert [query_int(v) for v in ("5", "-2", "0")] == [5, -2, 0]
    assert [query_int(v) for v in (None, "", "x", "1.5")] == [None] * 4


def test_store_of_finds_the_attached_store_and_checks_its_kind() -> None:
    app = Starlette()
    attach_store(app, ["records"])
    assert store_of(app, list) == ["records"]
    with pytest.raises(TypeError, match="holds a list, not a dict"):
        store_of(app, dict)
