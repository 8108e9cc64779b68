"""Inputs refused before any upstream call: malformed federation representations, lookup values
no provider could hold, and text with control characters or unpaired surrogates."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.inputs import MAX_EMAIL_LENGTH, MAX_ID_LENGTH
from resolvers.schema import MAX_REPRESENTATIONS
from tests.conftest import GatewayHarness

ENTITIES = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id name } } }"


async def ascii_query(
    gateway: GatewayHarness, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """Sent as ASCII JSON (``\\ud800`` escapes), as a client can send an unpaired surrogate."""
    body = json.dumps({"query": query, "variables": variables})
    response = await gateway.client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def showcase_id(gateway: GatewayHarness) -> str:
    body = await gateway.query('{ customerByEmail(email: "ada@lovelace.example") { id } }')
    found: str = body["data"]["customerByEmail"]["id"]
    return found


@pytest.mark.parametrize(
    ("representation", "message"),
    [
        ({}, "unknown entity type None"),
        ({"__typename": "Customer"}, "needs its key field id"),
        ({"__typename": "Order", "id": "1"}, "unknown entity type 'Order'"),
        ({"__typename": "Customer", "id": 7}, "needs its key field id"),
        ({"__typename": "Customer", "id": "x", "email": "a@b.c"}, "not email"),
        ("cgw_x", "must be an object"),
    ],
)
async def test_a_malformed_representation_is_that_positions_user_error(
    gateway: GatewayHarness, representation: Any, message: str
) -> None:
    good = {"__typename": "Customer", "id": await showcase_id(gateway)}
    gateway.reset_calls()

    body = await gateway.query(ENTITIES, {"r": [representation, good]})

    first, second = body["data"]["_entities"]
    assert first is None and second["name"]
    [error] = body["errors"]
    assert error["path"] == ["_entities", 0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in error["message"]


async def test_too_many_representations_fetch_nothing(gateway: GatewayHarness) -> None:
    many = [{"__typename": "Customer", "id": f"cgw_{i}"} for i in range(MAX_REPRESENTATIONS + 1)]

    body = await gateway.query(ENTITIES, {"r": many})

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert f"at most {MAX_REPRESENTATIONS}" in body["errors"][0]["message"]
    assert sum(gateway.call_counts().values()) == 0


@pytest.mark.parametrize(
    ("query", "variables", "message"),
    [
        (
            "query($v: String!) { customerByEmail(email: $v) { id } }",
            {"v": "a" * MAX_EMAIL_LENGTH + "@x.example"},
            f"email must be at most {MAX_EMAIL_LENGTH} characters",
        ),
        (
            "query($v: String!) { customerByEmail(email: $v) { id } }",
            {"v": "ada\u0000@lovelace.example"},
            "email holds a control character (U+0000) at position 3",
        ),
        (
            "query($v: String!) { customerByProviderId(provider: STRIPE, id: $v) { id } }",
            {"v": "cus_" + "x" * MAX_ID_LENGTH},
            f"id must be at most {MAX_ID_LENGTH} characters",
        ),
        (
            "query($v: String!) { customerByLinkedId(kind: EXTERNAL_ID, value: $v) { id } }",
            {"v": "co_\ud800"},
            "value holds an unpaired surrogate (U+D800) at position 3",
        ),
    ],
)
async def test_lookup_values_no_provider_could_hold_cost_nothing(
    gateway: GatewayHarness, query: str, variables: dict[str, Any], message: str
) -> None:
    body = await ascii_query(gateway, query, variables)

    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == message
    assert sum(gateway.call_counts().values()) == 0


CREATE = """mutation($input: CustomerInput!) {
  createCustomer(input: $input, providers: [STRIPE, TOFUPAY]) {
    userErrors { field code message } outcomes { provider status }
  }
}"""


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"name": "Ada\u0000Lovelace"}, ["input", "name"], "INVALID_FORMAT"),
        ({"name": "Ada \ud83d"}, ["input", "name"], "INVALID_FORMAT"),
        ({"phone": "+44\u0007"}, ["input", "phone"], "INVALID_FORMAT"),
        ({"externalId": "co_\u001b"}, ["input", "externalId"], "INVALID_FORMAT"),
        ({"address": {"city": "Lon\u0000don"}}, ["input", "address", "city"], "INVALID_FORMAT"),
        ({"metadata": {"k\u0000": "v"}}, ["input", "metadata", "k\u0000"], "METADATA_KEY_INVALID"),
        ({"metadata": {"k": "v\ud800"}}, ["input", "metadata", "k"], "METADATA_INVALID"),
    ],
)
async def test_writes_refuse_control_characters_and_lone_surrogates_before_writing(
    gateway: GatewayHarness, change: dict[str, Any], field: list[str], code: str
) -> None:
    write = {"email": "mary@somerville.example", "name": "Mary Somerville", **change}

    body = await ascii_query(gateway, CREATE, {"input": write})

    result = body["data"]["createCustomer"]
    assert result["outcomes"] == []
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [(field, code)]
    assert sum(gateway.call_counts().values()) == 0


async def test_a_description_may_hold_newlines_and_tabs(gateway: GatewayHarness) -> None:
    write = {
        "email": "mary@somerville.example",
        "name": "Mary Somerville",
        "description": "line one\n\tline two",
    }

    body = await gateway.query(CREATE, {"input": write})

    result = body["data"]["createCustomer"]
    assert result["userErrors"] == []
    assert {o["status"] for o in result["outcomes"]} == {"APPLIED"}


async def test_an_unpaired_surrogate_in_a_metadata_key_is_not_echoed_raw(
    gateway: GatewayHarness,
) -> None:
    write = {"email": "mary@somerville.example", "name": "Mary", "metadata": {"k\ud800": "v"}}

    body = await ascii_query(gateway, CREATE, {"input": write})

    [error] = body["data"]["createCustomer"]["userErrors"]
    assert error["code"] == "METADATA_KEY_INVALID"
    assert sum(gateway.call_counts().values()) == 0
