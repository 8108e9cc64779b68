"""API keys end to end: who is admitted, what each scope allows, and that a refusal costs
no upstream call (the simulators' own request logs say so)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.sandbox.dataset import SHOWCASE_EMAIL
from tests.auth.conftest import INTROSPECTION, READ, SHOWCASE, WRITE, Keys, post
from tests.conftest import GatewayHarness, JsonLogs

CREATE = """mutation($key: String) {
  createCustomer(input: {email: "grace@hopper.example", name: "Grace Hopper"},
                 providers: [STRIPE], idempotencyKey: $key) {
    actor replayed userErrors { code } outcomes { provider status }
  }
}"""
INVALID_CREATE = """mutation {
  createCustomer(input: {email: "not an email"}, providers: [STRIPE]) { actor userErrors { code } }
}"""
PERSONAL = """{
  customerByEmail(email: "ada@lovelace.example") {
    name email emails phone address { city }
    stripe { email phone address { city } raw }
    lago { email phone address { city } raw }
    identity { edges { rule value } }
  }
}"""


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert body["data"] is None
    [error] = body["errors"]
    return dict(error)


@pytest.mark.parametrize(
    ("headers", "challenge"),
    [
        ({}, 'Bearer realm="customer-gateway"'),
        ({"Authorization": "Bearer cgw_not-a-configured-key"}, "invalid_token"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 'Bearer realm="customer-gateway"'),
        ({"Authorization": "Bearer " + "x" * 9000}, "invalid_token"),
    ],
    ids=["missing", "unknown key", "basic", "oversized"],
)
async def test_without_a_valid_key_nothing_runs(
    keyed: GatewayHarness, headers: dict[str, str], challenge: str
) -> None:
    response = await post(keyed, SHOWCASE, headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert challenge in response.headers["www-authenticate"]
    error = only_error(response.json())
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert "cgw_not-a-configured-key" not in error["message"]
    assert sum(keyed.call_counts().values()) == 0


async def test_a_get_query_needs_a_key_too_but_the_graphiql_page_does_not(
    keyed: GatewayHarness,
) -> None:
    refused = await keyed.client.get("/graphql", params={"query": SHOWCASE})
    page = await keyed.client.get("/graphql", headers={"Accept": "text/html"})

    assert refused.status_code == 401
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]


async def test_a_read_key_reads(keyed: GatewayHarness, keys: Keys) -> None:
    response = await post(keyed, SHOWCASE, keys.header("reader"))

    assert response.status_code == 200
    assert response.json() == {"data": {"customerByEmail": {"name": "Ada Lovelace"}}}


async def test_a_read_key_cannot_write_and_nothing_is_sent(
    keyed: GatewayHarness, keys: Keys
) -> None:
    response = await post(keyed, CREATE, keys.header("reader"))

    assert response.status_code == 403
    error = only_error(response.json())
    assert error["extensions"] == {"code": "FORBIDDEN", "missingScope": WRITE}
    assert WRITE in error["message"] and "reader" in error["message"]
    assert sum(keyed.call_counts().values()) == 0


async def test_a_write_only_key_cannot_read(keyed: GatewayHarness, keys: Keys) -> None:
    response = await post(keyed, SHOWCASE, keys.header("writer"))

    assert response.status_code == 403
    assert only_error(response.json())["extensions"] == {
        "code": "FORBIDDEN",
        "missingScope": READ,
    }
    assert sum(keyed.call_counts().values()) == 0


async def test_a_mutation_records_the_key_that_made_it_and_replays_it(
    keyed: GatewayHarness, keys: Keys
) -> None:
    first = await post(keyed, CREATE, keys.header("writer"), {"key": "create-grace"})
    again = await post(keyed, CREATE, keys.header("writer"), {"key": "create-grace"})

    made = first.json()["data"]["createCustomer"]
    assert made["actor"] == "writer" and made["outcomes"] == [
        {"provider": "STRIPE", "status": "APPLIED"}
    ]
    assert again.json()["data"]["createCustomer"] == {**made, "replayed": True}
    assert len([c for c in keyed.calls("stripe") if c.method == "POST"]) == 1


async def test_an_idempotency_key_is_the_callers_own(keyed: GatewayHarness, keys: Keys) -> None:
    """Another key sending the same idempotency key neither replays the first one's result
    (which would show it another caller's write) nor is refused because of it."""
    first = await post(keyed, CREATE, keys.header("writer"), {"key": "shared"})
    other = await post(keyed, CREATE, keys.header("editor"), {"key": "shared"})

    assert first.json()["data"]["createCustomer"]["actor"] == "writer"
    second = other.json()["data"]["createCustomer"]
    assert second["actor"] == "editor" and second["replayed"] is False


async def test_a_refused_write_still_says_who_asked(keyed: GatewayHarness, keys: Keys) -> None:
    response = await post(keyed, INVALID_CREATE, keys.header("writer"))

    payload = response.json()["data"]["createCustomer"]
    assert payload == {"actor": "writer", "userErrors": [{"code": "INVALID_EMAIL"}]}


async def test_without_the_pii_scope_personal_data_is_masked(
    keyed: GatewayHarness, keys: Keys
) -> None:
    response = await post(keyed, PERSONAL, keys.header("reader"))

    customer = response.json()["data"]["customerByEmail"]
    assert customer["name"] == "Ada Lovelace"
    assert customer["email"] == "a***@lovelace.example"
    assert set(customer["emails"]) <= {"a***@lovelace.example", "a***@analyticalengines.example"}
    assert customer["phone"] == "+44 ****** 00"
    assert customer["address"] is None
    [stripe] = customer["stripe"]
    assert stripe["email"] == "a***@lovelace.example" and stripe["phone"] == "+44 ****** 00"
    assert stripe["address"] is None
    assert stripe["raw"]["email"] == "a***@lovelace.example"
    assert stripe["raw"]["address"] is None and stripe["raw"]["id"].startswith("cus_")
    [lago] = customer["lago"]
    assert lago["raw"]["address_line1"] is None and lago["raw"]["city"] is None
    assert lago["raw"]["phone"] == "+44 ****** 00"
    emails = [e["value"] for e in customer["identity"]["edges"] if e["rule"] == "EMAIL"]
    assert emails and all("***@" in value for value in emails)
    assert SHOWCASE_EMAIL not in response.text and "2079460100" not in response.text
    assert "James" not in response.text  # 12 St James's Square


async def test_with_the_pii_scope_personal_data_is_shown(keyed: GatewayHarness, keys: Keys) -> None:
    response = await post(keyed, PERSONAL, keys.header("support"))

    customer = response.json()["data"]["customerByEmail"]
    assert customer["email"] == SHOWCASE_EMAIL
    assert customer["phone"] == "+442079460100"
    assert customer["address"] == {"city": "London"}
    assert customer["stripe"][0]["raw"]["address"]["city"] == "London"


async def test_the_access_log_names_the_key(
    keyed: GatewayHarness, keys: Keys, json_logs: JsonLogs
) -> None:
    await post(keyed, SHOWCASE, keys.header("reader"))
    await post(keyed, SHOWCASE, {"Authorization": "Bearer wrong"})

    [admitted, refused] = json_logs.lines("customer_gateway.access")
    assert (admitted["status"], admitted["key_id"]) == (200, "reader")
    assert (refused["status"], refused["key_id"], refused["upstream_calls"]) == (401, None, 0)


INTROSPECT = "{ __schema { queryType { name } } }"
TYPE = '{ __type(name: "Customer") { name } }'
SDL = "{ _service { sdl } }"


async def test_introspection_is_on_for_every_key_on_the_sandbox_by_default(
    keyed: GatewayHarness, keys: Keys
) -> None:
    response = await post(keyed, INTROSPECT, keys.header("reader"))

    assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_introspection_needs_its_scope_where_it_is_off(
    small_dataset: Any, keys: Keys
) -> None:
    from dataclasses import replace

    from gateway.config import AuthSettings
    from tests.auth.conftest import secured

    auth = replace(AuthSettings(api_keys=keys.configured, introspection=False))
    async with secured(small_dataset, auth) as gateway:
        refused = [await post(gateway, q, keys.header("reader")) for q in (INTROSPECT, TYPE)]
        allowed = await post(gateway, INTROSPECT, keys.header("schema"))
        sdl = await post(gateway, SDL, keys.header("reader"))
        typename = await post(gateway, "{ __typename }", keys.header("reader"))

    for response in refused:
        assert response.status_code == 403
        error = only_error(response.json())
        assert error["extensions"] == {"code": "FORBIDDEN", "missingScope": INTROSPECTION}
        assert "introspection" in error["message"]
    assert allowed.json()["data"]["__schema"]["queryType"]["name"] == "Query"
    # A federation router fetches the subgraph SDL with a read key: never introspection.
    assert "type Customer" in sdl.json()["data"]["_service"]["sdl"]
    assert typename.json() == {"data": {"__typename": "Query"}}
