"""Documents too big to validate are refused before validation, fast, and cost nothing."""

from __future__ import annotations

import asyncio

from graphql import parse

from resolvers.limits import MAX_FIELDS, expanded_size
from tests.conftest import GatewayHarness


def fragment_bomb(levels: int) -> str:
    """Each fragment spreads the next twice: ~400 bytes selecting 2**levels fields."""
    fragments = [f"fragment F{i} on Customer {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    fragments.append(f"fragment F{levels} on Customer {{ id }}")
    query = '{ customerByEmail(email: "ada@lovelace.example") { ...F0 } }'
    return " ".join([query, *fragments])


def test_expanded_size_sizes_each_fragment_once() -> None:
    assert expanded_size(parse(fragment_bomb(3)), 10**9) == 1 + 2**3
    assert expanded_size(parse("{ a { b c } d }"), 100) == 4
    # counting stops just past the limit instead of walking millions of fields
    assert MAX_FIELDS < expanded_size(parse(fragment_bomb(40)), MAX_FIELDS) < 2**40


async def test_a_fragment_bomb_is_refused_before_validation(gateway: GatewayHarness) -> None:
    body = await asyncio.wait_for(gateway.query(fragment_bomb(22)), timeout=10)

    [error] = body["errors"]
    assert error["extensions"] == {"code": "QUERY_TOO_LARGE", "limit": MAX_FIELDS}
    assert body["data"] is None
    assert sum(gateway.call_counts().values()) == 0


async def test_a_cheap_query_is_served_alongside(gateway: GatewayHarness) -> None:
    cheap = '{ customerByEmail(email: "ada@lovelace.example") { name } }'
    bomb, ok = await asyncio.wait_for(
        asyncio.gather(gateway.query(fragment_bomb(30)), gateway.query(cheap)), timeout=10
    )

    assert bomb["errors"][0]["extensions"]["code"] == "QUERY_TOO_LARGE"
    assert ok["data"]["customerByEmail"]["name"]


async def test_an_ordinary_query_with_fragments_still_validates(gateway: GatewayHarness) -> None:
    query = (
        'query Q { customerByEmail(email: "ada@lovelace.example") { ...Who } } '
        "fragment Who on Customer { id name nope }"
    )
    body = await gateway.query(query)

    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
