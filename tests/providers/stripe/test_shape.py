"""Stripe seed records: completed with defaults, and refused wherever Stripe's API would refuse.

A seed goes through the create route's own parameter checks, so each refusal here is one the
API gives too; read-only fields (``created``, ``livemode``...) are type-checked.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.providers.stripe.simulator import create_app, seed_record

KEY = "sk_test_sandbox"
NULL_ADDRESS = dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state"), None)


def test_seed_fills_defaults_and_keeps_given_values() -> None:
    filled = seed_record({"id": "cus_x", "address": {"city": "Oslo"}, "created": 5})
    assert filled["address"] == NULL_ADDRESS | {"city": "Oslo"}
    assert (filled["created"], filled["balance"], filled["metadata"]) == (5, 0, {})
    given = seed_record(
        {
            "id": "cus_ShowcaseAda001",
            "email": "ada@lovelace.example",
            "currency": "gbp",
            "balance": -2500,
            "delinquent": True,
            "livemode": False,
            "business_name": "Analytical Engines Ltd",
            "shipping": {"name": "Ada", "address": {"city": "London"}, "phone": None},
            "metadata": {"company_id": "co_1"},
        }
    )
    assert (given["currency"], given["balance"], given["delinquent"]) == ("gbp", -2500, True)
    assert given["business_name"] == "Analytical Engines Ltd"
    assert given["shipping"]["address"] == NULL_ADDRESS | {"city": "London"}
    assert seed_record({"id": "cus_x", "email": None, "shipping": None})["email"] is None


async def test_an_object_the_api_returned_seeds_to_itself() -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app()), base_url="http://stripe", auth=(KEY, "")
    ) as http:
        created = await http.post(
            "/v1/customers",
            data={
                "email": "full@example.com",
                "name": "Full",
                "individual_name": "Full Person",
                "address[line1]": "1 Main St",
                "shipping[name]": "Full",
                "shipping[address][city]": "Paris",
                "preferred_locales[]": "fr",
                "tax_exempt": "exempt",
                "invoice_settings[footer]": "Thanks",
                "metadata[k]": "v",
            },
        )
    obj = created.json()
    assert seed_record(obj) == obj


@pytest.mark.parametrize(
    ("record", "named"),
    [
        ({"id": "cus_x", "colour": "blue"}, "colour"),
        ({"id": "cus_x", "sources": {"object": "list", "data": []}}, "sources"),
        ({"id": "cus_x", "email": "nope"}, "email"),
        ({"id": "cus_x", "email": "x" * 510 + "@a.b"}, "email"),
        ({"id": "cus_x", "name": 12}, "name"),
        ({"id": "cus_x", "name": "x" * 257}, "name"),
        ({"id": "cus_x", "business_name": "x" * 151}, "business_name"),
        ({"id": "cus_x", "balance": "12"}, "balance"),
        ({"id": "cus_x", "balance": 1.5}, "balance"),
        ({"id": "cus_x", "balance": True}, "balance"),
        ({"id": "cus_x", "tax_exempt": "sometimes"}, "tax_exempt"),
        ({"id": "cus_x", "preferred_locales": "en"}, "preferred_locales"),
        ({"id": "cus_x", "invoice_prefix": "lower"}, "invoice_prefix"),
        ({"id": "cus_x", "metadata": {"a": 1}}, "metadata"),
        ({"id": "cus_x", "metadata": ["a"]}, "metadata"),
        ({"id": "cus_x", "metadata": {f"k{i}": "v" for i in range(51)}}, "metadata"),
        ({"id": "cus_x", "metadata": {"k" * 41: "v"}}, "metadata"),
        ({"id": "cus_x", "metadata": {"k": "v" * 501}}, "metadata"),
        ({"id": "cus_x", "metadata": {"a[b]": "v"}}, "metadata"),
        ({"id": "cus_x", "address": "London"}, "address"),
        ({"id": "cus_x", "address": {"planet": "Mars"}}, "address[planet]"),
        ({"id": "cus_x", "address": {"city": 7}}, "address[city]"),
        ({"id": "cus_x", "shipping": {"name": "Ada"}}, "shipping[address]"),
        ({"id": "cus_x", "shipping": {"address": {"city": "Oslo"}}}, "shipping[name]"),
        ({"id": "cus_x", "shipping": {"name": "Ada", "address": None}}, "shipping[address]"),
        ({"id": "cus_x", "shipping": {"name": "A", "address": {}, "carrier": "x"}}, "carrier"),
        ({"id": "cus_x", "created": "yesterday"}, "created"),
        ({"id": "cus_x", "currency": "dollars"}, "currency"),
        ({"id": "cus_x", "livemode": "no"}, "livemode"),
        ({"id": "cus_x", "delinquent": 1}, "delinquent"),
        ({"id": "cus_x", "object": "card"}, "object"),
        ({"id": "cus_x", "deleted": False}, "deleted"),
        ({"id": "cus_x", "deleted": True, "email": "a@b.c"}, "deleted"),
        ({"id": "cus_abc-def"}, "id"),
        ({"id": "acct_123"}, "id"),
        ({"id": "cus_"}, "id"),
        ({"id": 12}, "id"),
    ],
)
def test_seed_refuses_what_stripe_would(record: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match=named.replace("[", r"\[").replace("]", r"\]")):
        seed_record(record)


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        create_app([{"id": "cus_x"}, {"id": "cus_x"}])
