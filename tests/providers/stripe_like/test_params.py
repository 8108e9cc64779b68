"""Seed records as the form values their API would have received (then checked like a request)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.providers.stripe_like.simulator.params import Kind, wire_params

KINDS = {
    "name": Kind.STRING,
    "balance": Kind.INTEGER,
    "address": Kind.HASH,
    "locales": Kind.LIST,
}


def test_json_values_become_form_values() -> None:
    record = {
        "name": None,
        "balance": -25,
        "address": {"city": "Oslo", "line2": None, "nested": {"a": "b"}},
        "locales": [],
        "read_only": 1,
    }
    assert wire_params(record, KINDS) == {
        "name": "",  # null is the API's "unset"
        "balance": "-25",
        "address": {"city": "Oslo", "line2": "", "nested": {"a": "b"}},
        "locales": "",  # an empty list can only be sent as a blank value
    }
    assert wire_params({"locales": ["en", "fr"]}, KINDS) == {"locales": ["en", "fr"]}


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"name": 3}, "name: must be a string or null"),
        ({"balance": "3"}, "balance: must be an integer"),
        ({"balance": None}, "balance: must be an integer"),
        ({"balance": False}, "balance: must be an integer"),
        ({"address": "Oslo"}, "address: must be an object or null"),
        ({"address": {"zip": 1234}}, r"address\[zip\]: must be a string or null"),
        ({"locales": "en"}, "locales: must be a list of strings"),
        ({"locales": [1]}, "locales: must be a list of strings"),
    ],
)
def test_values_the_wire_could_not_carry_are_refused(record: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        wire_params(record, KINDS)
