"""The static cost estimate: upstream calls an operation can cause, refused over the limit."""

from __future__ import annotations

from graphql import parse

from resolvers.cost import MAX_COST, estimate
from tests.conftest import GatewayHarness

PER_CUSTOMER = 15  # five providers x three hops


def cost(query: str, variables: dict[str, object] | None = None, name: str | None = None) -> int:
    return estimate(parse(query), name, variables, per_customer=PER_CUSTOMER, providers=5)


def test_one_customer_costs_one_expansion() -> None:
    assert cost('{ customerByEmail(email: "a@b.c") { id } }') == PER_CUSTOMER
    assert cost('{ a: customer(id: "x") { id } b: customer(id: "y") { id } }') == 2 * PER_CUSTOMER


def test_pages_and_entities_multiply_by_their_size() -> None:
    assert cost("{ customers(first: 50) { nodes { id } } }") == 1 + 50 * PER_CUSTOMER
    assert cost("{ customers { nodes { id } } }") == 1 + 20 * PER_CUSTOMER  # default first
    paged = "query($n: Int) { customers(first: $n) { nodes { id } } }"
    assert cost(paged, {"n": 7}) == 1 + 7 * PER_CUSTOMER
    entities = "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }"
    assert cost(entities, {"r": [{}, {}, {}]}) == 3 * PER_CUSTOMER


def test_the_named_operation_is_the_one_costed() -> None:
    document = (
        'query A { customers(first: 100) { nodes { id } } } query B { customer(id: "x") { id } }'
    )
    assert cost(document, name="B") == PER_CUSTOMER
    assert cost(document, name="A") == 1 + 100 * PER_CUSTOMER
    assert cost(document) == 0  # ambiguous: validation refuses it anyway


async def test_thirty_aliased_pages_are_refused_before_any_call(gateway: GatewayHarness) -> None:
    aliases = " ".join(f"p{i}: customers(first: 100) {{ nodes {{ id }} }}" for i in range(30))

    body = await gateway.query(f"{{ {aliases} }}")

    [error] = body["errors"]
    extensions = error["extensions"]
    assert extensions["code"] == "QUERY_TOO_COSTLY"
    assert extensions["limit"] == MAX_COST and extensions["cost"] > MAX_COST
    assert body["data"] is None
    assert sum(gateway.call_counts().values()) == 0


async def test_a_full_page_is_within_the_limit(gateway: GatewayHarness) -> None:
    body = await gateway.query("{ customers(first: 100) { nodes { id } } }")

    assert "errors" not in body
    assert len(body["data"]["customers"]["nodes"]) > 10
