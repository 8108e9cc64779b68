"""End-to-end over HTTP: the gateway app against the five simulators, seeded dataset."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from gateway.config import Settings, sandbox_settings
from gateway.sandbox.dataset import (
    DUPLICATE_EMAIL,
    DUPLICATE_STRIPE_IDS,
    EMAIL_ONLY_EMAIL,
    LAGO_ONLY_EMAIL,
    LAGO_ONLY_EXTERNAL_ID,
    PLACEHOLDER_LAGO_EXTERNAL_ID,
    PLACEHOLDER_STRIPE_ID,
    SHOWCASE_COMPANY_ID,
    SHOWCASE_EMAIL,
    SHOWCASE_STRIPE_ID,
)
from gateway.sandbox.faults import Faults
from tests.conftest import GatewayHarness, gateway_harness

PROVIDERS = ("stripe", "chartmogul", "firstofficer", "lago", "tofupay")

CUSTOMER_FIELDS = """
  id name email emails company currency createdAt status
  metrics { mrr { amount currency } currentMrr { amount currency } balance { amount currency } }
  externalIds { provider id }
  fieldSources { field provider recordId }
  identity {
    anchor { provider id }
    edges { rule namespace value left { provider id } right { provider id } }
    conflicts { kind field message }
    truncated
  }
  stripe { id email } chartmogul { uuid externalId } firstOfficer { id stripeId }
  lago { externalId providerCustomerId } tofupay { id email }
"""

BY_EMAIL = f"query($email: String!) {{ customerByEmail(email: $email) {{ {CUSTOMER_FIELDS} }} }}"


def providers_of(customer: dict[str, Any]) -> Counter[str]:
    return Counter(ref["provider"] for ref in customer["externalIds"])


def assert_no_duplicate_fetch(gateway: GatewayHarness) -> None:
    """Each (provider, request) at most once per GraphQL request."""
    seen = Counter(
        (provider, entry.method, entry.path, entry.query)
        for provider in PROVIDERS
        for entry in gateway.calls(provider)
    )
    repeated = {key: n for key, n in seen.items() if n > 1}
    assert not repeated, repeated


async def test_showcase_customer_merges_all_five_providers(gateway: GatewayHarness) -> None:
    body = await gateway.query(BY_EMAIL, {"email": SHOWCASE_EMAIL})

    assert "errors" not in body
    customer = body["data"]["customerByEmail"]
    assert providers_of(customer) == Counter({p: 1 for p in PROVIDERS})
    assert customer["email"] == SHOWCASE_EMAIL
    assert customer["identity"]["anchor"] == {"provider": "stripe", "id": SHOWCASE_STRIPE_ID}
    rules = {(e["rule"], e["namespace"]) for e in customer["identity"]["edges"]}
    assert ("LINKED_ID", "stripe_id") in rules
    assert ("LINKED_ID", "external_id") in rules
    assert ("EMAIL", None) in rules  # Tofupay joins by email only
    assert customer["lago"][0]["providerCustomerId"] == SHOWCASE_STRIPE_ID
    assert customer["chartmogul"][0]["externalId"] == SHOWCASE_STRIPE_ID
    assert customer["metrics"]["mrr"]["amount"] > 0
    assert {s["field"] for s in customer["fieldSources"]} >= {"name", "email"}
    assert any(c["field"] == "name" for c in customer["identity"]["conflicts"])


async def test_showcase_upstream_calls_are_exact(gateway: GatewayHarness) -> None:
    await gateway.query(BY_EMAIL, {"email": SHOWCASE_EMAIL})

    # Hop 1: the email in every provider (5 calls). Hop 2: the linked ids the records reveal,
    # minus what the first hop already answered: Stripe searches its metadata for the company
    # id, ChartMogul lists by external_id (not unique there); Stripe's own id, FirstOfficer's
    # and Lago's unique keys were primed by hop 1.
    assert gateway.call_counts() == {
        "stripe": 2,
        "chartmogul": 2,
        "firstofficer": 1,
        "lago": 1,
        "tofupay": 1,
    }
    assert_no_duplicate_fetch(gateway)


async def test_same_customer_has_the_same_id_by_every_lookup(gateway: GatewayHarness) -> None:
    by_email = await gateway.query(BY_EMAIL, {"email": "  ADA@Lovelace.Example "})
    customer_id = by_email["data"]["customerByEmail"]["id"]

    by_id = await gateway.query(
        "query($id: ID!) { customer(id: $id) { id email } }", {"id": customer_id}
    )
    by_ref = await gateway.query(
        "query($id: String!) { customerByProviderId(provider: LAGO, id: $id) { id } }",
        {"id": SHOWCASE_COMPANY_ID},
    )
    by_link = await gateway.query(
        "query($v: String!) { customerByLinkedId(kind: STRIPE_ID, value: $v) { id } }",
        {"v": SHOWCASE_STRIPE_ID},
    )

    assert by_id["data"]["customer"] == {"id": customer_id, "email": SHOWCASE_EMAIL}
    assert by_ref["data"]["customerByProviderId"]["id"] == customer_id
    assert by_link["data"]["customerByLinkedId"]["id"] == customer_id


async def test_email_only_link_merges_across_case_and_whitespace(gateway: GatewayHarness) -> None:
    body = await gateway.query(BY_EMAIL, {"email": EMAIL_ONLY_EMAIL})

    customer = body["data"]["customerByEmail"]
    assert len(providers_of(customer)) >= 3
    email_edges = [e for e in customer["identity"]["edges"] if e["rule"] == "EMAIL"]
    assert email_edges and all(e["value"] == EMAIL_ONLY_EMAIL for e in email_edges)


async def test_stripe_duplicates_are_one_customer(gateway: GatewayHarness) -> None:
    body = await gateway.query(BY_EMAIL, {"email": DUPLICATE_EMAIL})

    customer = body["data"]["customerByEmail"]
    assert sorted(s["id"] for s in customer["stripe"]) == sorted(DUPLICATE_STRIPE_IDS)


async def test_lago_only_customer_by_external_id(gateway: GatewayHarness) -> None:
    body = await gateway.query(
        "query($v: String!) { customerByLinkedId(kind: EXTERNAL_ID, value: $v) {"
        " email lago { externalId } stripe { id } } }",
        {"v": LAGO_ONLY_EXTERNAL_ID},
    )

    customer = body["data"]["customerByLinkedId"]
    assert customer["lago"] == [{"externalId": LAGO_ONLY_EXTERNAL_ID}]
    assert customer["stripe"] == []
    assert customer["email"].strip().casefold() == LAGO_ONLY_EMAIL.casefold()


async def test_placeholder_emails_never_merge(gateway: GatewayHarness) -> None:
    body = await gateway.query(
        "query($id: String!) { customerByProviderId(provider: STRIPE, id: $id) {"
        " externalIds { provider id } } }",
        {"id": PLACEHOLDER_STRIPE_ID},
    )

    refs = body["data"]["customerByProviderId"]["externalIds"]
    assert {"provider": "lago", "id": PLACEHOLDER_LAGO_EXTERNAL_ID} not in refs


async def test_unknown_customer_is_null_without_error(gateway: GatewayHarness) -> None:
    body = await gateway.query(BY_EMAIL, {"email": "nobody@nowhere.example"})

    assert body == {"data": {"customerByEmail": None}}


@pytest.mark.parametrize("down", PROVIDERS)
async def test_a_provider_outage_costs_only_its_own_fields(
    gateway: GatewayHarness, down: str
) -> None:
    gateway.set_faults(down, Faults(outage=True))

    body = await gateway.query(BY_EMAIL, {"email": SHOWCASE_EMAIL})

    customer = body["data"]["customerByEmail"]
    assert customer is not None and customer["email"].casefold() == SHOWCASE_EMAIL
    field = {"firstofficer": "firstOfficer"}.get(down, down)
    assert customer[field] is None
    for other in set(PROVIDERS) - {down}:
        assert customer[{"firstofficer": "firstOfficer"}.get(other, other)], other
    errors = [e for e in body["errors"] if e["extensions"].get("provider") == down]
    assert errors and all(e["extensions"]["code"] == "PROVIDER_UNAVAILABLE" for e in errors)
    assert any(e.get("path") == ["customerByEmail", field] for e in errors)
    degraded = body["extensions"]["degradedProviders"]
    assert [d["provider"] for d in degraded] == [down]


async def test_rate_limited_provider_is_reported_as_such(gateway: GatewayHarness) -> None:
    gateway.set_faults("chartmogul", Faults(rate_limit_rate=1.0, retry_after=0))

    body = await gateway.query(BY_EMAIL, {"email": SHOWCASE_EMAIL})

    customer = body["data"]["customerByEmail"]
    assert customer["chartmogul"] is None and customer["metrics"]["mrr"] is None
    assert customer["stripe"]
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert codes == {"PROVIDER_RATE_LIMITED"}


async def test_malformed_provider_answer_is_a_bad_response(gateway: GatewayHarness) -> None:
    gateway.set_faults("lago", Faults(malformed_rate=1.0))

    body = await gateway.query(BY_EMAIL, {"email": SHOWCASE_EMAIL})

    assert body["data"]["customerByEmail"]["lago"] is None
    assert {e["extensions"]["code"] for e in body["errors"]} == {"PROVIDER_BAD_RESPONSE"}


async def test_provider_secrets_never_reach_the_client(
    gateway: GatewayHarness, small_dataset: Any
) -> None:
    gateway.set_faults("stripe", Faults(next_statuses=[401] * 10))

    response = await gateway.client.post(
        "/graphql", json={"query": BY_EMAIL, "variables": {"email": SHOWCASE_EMAIL}}
    )

    assert "sk_test_sandbox" not in response.text
    codes = {e["extensions"]["code"] for e in response.json()["errors"]}
    assert "PROVIDER_AUTH_FAILED" in codes


async def test_customers_page_is_a_relay_connection(gateway: GatewayHarness) -> None:
    query = """query($after: String) { customers(first: 5, after: $after) {
        edges { cursor node { id stripe { id } } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""

    first = (await gateway.query(query))["data"]["customers"]
    second = (await gateway.query(query, {"after": first["pageInfo"]["endCursor"]}))["data"][
        "customers"
    ]
    resumed = (await gateway.query(query, {"after": first["edges"][1]["cursor"]}))["data"][
        "customers"
    ]

    assert len(first["edges"]) == 5 and first["pageInfo"]["hasNextPage"]
    assert first["pageInfo"]["hasPreviousPage"] is False
    ids = [e["node"]["id"] for e in first["edges"]]
    assert not set(ids) & {e["node"]["id"] for e in second["edges"]}
    assert [e["node"]["id"] for e in resumed["edges"]][:3] == ids[2:]


async def test_customers_page_fetches_each_key_once(gateway: GatewayHarness) -> None:
    await gateway.query("{ customers(first: 20) { edges { node { id email } } } }")

    assert_no_duplicate_fetch(gateway)
    # Stripe: 1 list call, then 20 emails and 20 company ids batched 10 per search call.
    # FirstOfficer: one GET per customer by Stripe id; its email/extra-id lookups are primed
    # by that answer and only go out (11 more) where FirstOfficer holds no record for the id.
    # ChartMogul and Lago: an email search plus a linked-id lookup per customer (neither is
    # unique there); Tofupay: one email filter per distinct usable email.
    assert gateway.call_counts() == {
        "stripe": 5,
        "chartmogul": 39,
        "firstofficer": 31,
        "lago": 39,
        "tofupay": 19,
    }
    stripe_paths = Counter(c.path for c in gateway.calls("stripe"))
    assert stripe_paths == {"/v1/customers": 1, "/v1/customers/search": 4}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ customers(first: 101) { edges { cursor } } }", "BAD_USER_INPUT"),
        ("{ customers(first: -1) { edges { cursor } } }", "BAD_USER_INPUT"),
        ('{ customers(after: "garbage") { edges { cursor } } }', "INVALID_CURSOR"),
        ('{ customer(id: "cus_123") { id } }', "INVALID_ID"),
        ('{ customerByEmail(email: "n/a") { id } }', "BAD_USER_INPUT"),
        ('{ customerByProviderId(provider: STRIPE, id: " ") { id } }', "BAD_USER_INPUT"),
        ("{ customer(id: ", "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_bad_input_gets_a_specific_code(
    gateway: GatewayHarness, query: str, code: str
) -> None:
    body = await gateway.query(query)

    assert [e["extensions"]["code"] for e in body["errors"]] == [code]
    assert gateway.call_counts() == dict.fromkeys(PROVIDERS, 0)


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"content": b"{oops", "headers": {"content-type": "application/json"}}, 400),
        ({"json": {}}, 400),
        (
            {"json": {"query": "query A { customers { edges { cursor } } }", "operationName": "B"}},
            400,
        ),
        (
            {
                "json": {"query": "{"},
                "headers": {"accept": "application/graphql-response+json"},
            },
            400,
        ),
    ],
)
async def test_malformed_http_requests_get_graphql_errors(
    gateway: GatewayHarness, kwargs: dict[str, Any], status: int
) -> None:
    response = await gateway.client.post("/graphql", **kwargs)

    assert response.status_code == status
    assert response.json()["errors"][0]["extensions"]["code"]


async def test_federation_entities_resolve_in_one_batch(gateway: GatewayHarness) -> None:
    ids = []
    for email in (SHOWCASE_EMAIL, EMAIL_ONLY_EMAIL, DUPLICATE_EMAIL):
        body = await gateway.query(BY_EMAIL, {"email": email})
        ids.append(body["data"]["customerByEmail"]["id"])
    gateway.reset_calls()

    body = await gateway.query(
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id email } } }",
        {"r": [{"__typename": "Customer", "id": i} for i in ids]},
    )

    assert [e["id"] for e in body["data"]["_entities"]] == ids
    # The three customers' emails go to Stripe in one search call, not three.
    email_searches = [
        c
        for c in gateway.calls("stripe")
        if c.path == "/v1/customers/search" and "email" in c.query
    ]
    assert len(email_searches) == 1
    assert_no_duplicate_fetch(gateway)


async def test_graphiql_opens_with_the_showcase_query(gateway: GatewayHarness) -> None:
    response = await gateway.client.get("/graphql", headers={"accept": "text/html"})

    assert response.status_code == 200
    assert SHOWCASE_EMAIL in response.text


async def test_health(gateway: GatewayHarness) -> None:
    response = await gateway.client.get("/healthz")

    assert response.json() == {
        "status": "ok",
        "sandbox": True,
        "providers": sorted(PROVIDERS),
        "circuits": dict.fromkeys(sorted(PROVIDERS), "closed"),
    }


async def test_health_shows_an_open_circuit(gateway: GatewayHarness) -> None:
    gateway.set_faults("lago", Faults(outage=True))
    for _ in range(5):  # one failure per logical call, retries included (threshold 5)
        await gateway.query(BY_EMAIL, {"email": SHOWCASE_EMAIL})

    circuits = (await gateway.client.get("/healthz")).json()["circuits"]

    assert circuits["lago"] == "open" and circuits["stripe"] == "closed"


async def test_cors_is_off_unless_origins_are_configured(small_dataset: Any) -> None:
    preflight = {
        "origin": "https://app.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
    }
    settings = Settings(providers=sandbox_settings(), cors_origins=("https://app.example.com",))
    async with gateway_harness(small_dataset, settings) as allowed:
        ok = await allowed.client.options("/graphql", headers=preflight)
        other = await allowed.client.options(
            "/graphql", headers={**preflight, "origin": "https://evil.example"}
        )
    async with gateway_harness(small_dataset) as default:
        closed = await default.client.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"origin": "https://app.example.com"},
        )

    assert ok.headers["access-control-allow-origin"] == "https://app.example.com"
    assert other.status_code == 400
    assert "access-control-allow-origin" not in closed.headers
