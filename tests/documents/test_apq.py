"""Automatic Persisted Queries as Apollo Client sends them: miss, register, hit by hash alone."""

from __future__ import annotations

import json
from typing import Any

import httpx

from gateway.config import Settings, sandbox_settings
from gateway.documents import QueryCache, sha256_hex
from gateway.sandbox.dataset import SHOWCASE_EMAIL, Dataset
from tests.conftest import GatewayHarness, JsonLogs, gateway_harness

QUERY = "query Showcase($email: String!) { customerByEmail(email: $email) { id name } }"
HASH = sha256_hex(QUERY)
VARIABLES = {"email": SHOWCASE_EMAIL}
CREATE = 'mutation Create { createCustomer(input: {email: "apq@x.example"}) { replayed } }'


def persisted(sha256: str = HASH) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256}}


def total(gateway: GatewayHarness) -> int:
    return sum(gateway.call_counts().values())


async def post(gateway: GatewayHarness, **body: Any) -> httpx.Response:
    return await gateway.client.post("/graphql", json=body)


async def get(gateway: GatewayHarness, **params: Any) -> httpx.Response:
    encoded = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()}
    # curl's Accept: a GET without `query` must still be an operation, not the GraphiQL page
    return await gateway.client.get("/graphql", params=encoded, headers={"accept": "*/*"})


async def test_miss_then_register_then_hit_by_hash_alone(gateway: GatewayHarness) -> None:
    miss = await post(gateway, extensions=persisted(), variables=VARIABLES)

    # Apollo Server's answer, which Apollo Client's persisted-queries link retries on.
    assert miss.status_code == 200
    assert miss.json()["errors"] == [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
    assert miss.headers["cache-control"] == "private, no-cache, must-revalidate"
    assert total(gateway) == 0  # the miss costs nothing upstream

    registered = await post(gateway, query=QUERY, extensions=persisted(), variables=VARIABLES)
    assert registered.status_code == 200
    assert registered.json()["data"]["customerByEmail"]["name"]
    per_run = gateway.call_counts()
    assert sum(per_run.values()) > 0
    gateway.reset_calls()

    hit = await post(gateway, extensions=persisted(), variables=VARIABLES)

    assert hit.status_code == 200
    assert hit.json() == registered.json()
    assert gateway.call_counts() == per_run  # the stored query ran, exactly as registered


async def test_a_query_runs_over_get_by_hash(gateway: GatewayHarness) -> None:
    miss = await get(gateway, extensions=persisted(), variables=VARIABLES)
    assert miss.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"

    registered = await get(gateway, query=QUERY, extensions=persisted(), variables=VARIABLES)
    hit = await get(gateway, extensions=persisted(), variables=VARIABLES)

    assert registered.status_code == hit.status_code == 200
    assert hit.json()["data"] == registered.json()["data"]
    assert hit.json()["data"]["customerByEmail"]["name"]


async def test_a_hash_that_is_not_the_querys_is_refused(gateway: GatewayHarness) -> None:
    other = sha256_hex("{ __typename }")

    response = await post(gateway, query=QUERY, extensions=persisted(other), variables=VARIABLES)

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"message": "provided sha does not match query", "extensions": {"code": "BAD_REQUEST"}}
    ]
    assert total(gateway) == 0
    # ... and nothing was stored under the hash it claimed.
    again = await post(gateway, extensions=persisted(other))
    assert again.json()["errors"][0]["message"] == "PersistedQueryNotFound"


async def test_mutations_neither_register_nor_run_over_get(gateway: GatewayHarness) -> None:
    create = persisted(sha256_hex(CREATE))

    over_get = await get(gateway, query=CREATE, extensions=create)

    assert over_get.status_code == 400
    assert over_get.json()["errors"][0]["message"] == "mutations are not allowed when using GET"
    assert total(gateway) == 0
    not_stored = await post(gateway, extensions=create)
    assert not_stored.json()["errors"][0]["message"] == "PersistedQueryNotFound"

    # Registered over POST (where it runs once), its hash alone over GET still cannot write.
    assert (await post(gateway, query=CREATE, extensions=create)).status_code == 200
    gateway.reset_calls()
    by_hash = await get(gateway, extensions=create)

    assert by_hash.status_code == 400
    assert by_hash.json()["errors"][0]["message"] == "mutations are not allowed when using GET"
    assert total(gateway) == 0


async def test_protocol_mistakes_are_bad_requests(gateway: GatewayHarness) -> None:
    version_2 = {"persistedQuery": {"version": 2, "sha256Hash": HASH}}
    no_hash = {"persistedQuery": {"version": 1}}

    for extensions, message in (
        (version_2, "Unsupported persisted query version"),
        (no_hash, "extensions.persistedQuery.sha256Hash must be a non-empty string"),
    ):
        response = await post(gateway, extensions=extensions)
        assert response.status_code == 400
        assert response.json()["errors"] == [
            {"message": message, "extensions": {"code": "BAD_REQUEST"}}
        ]
    assert total(gateway) == 0


async def test_size_zero_turns_apq_off(small_dataset: Dataset) -> None:
    settings = Settings(providers=sandbox_settings(), apq_cache_size=0)
    async with gateway_harness(small_dataset, settings) as gateway:
        for body in ({"extensions": persisted()}, {"query": QUERY, "extensions": persisted()}):
            response = await post(gateway, **body, variables=VARIABLES)

            assert response.status_code == 200
            assert response.json()["errors"] == [
                {
                    "message": "PersistedQueryNotSupported",
                    "extensions": {"code": "PERSISTED_QUERY_NOT_SUPPORTED"},
                }
            ]
        assert total(gateway) == 0
        plain = await post(gateway, query=QUERY, variables=VARIABLES)
        assert plain.json()["data"]["customerByEmail"]["name"]


async def test_the_store_keeps_the_most_recently_used(small_dataset: Dataset) -> None:
    queries = [f"query Q{i} {{ __typename }}" for i in range(3)]
    settings = Settings(providers=sandbox_settings(), apq_cache_size=2)
    async with gateway_harness(small_dataset, settings) as gateway:
        for query in queries[:2]:
            await post(gateway, query=query, extensions=persisted(sha256_hex(query)))
        await post(gateway, extensions=persisted(sha256_hex(queries[0])))  # Q0 used last
        await post(gateway, query=queries[2], extensions=persisted(sha256_hex(queries[2])))

        answers = [
            (await post(gateway, extensions=persisted(sha256_hex(q)))).json() for q in queries
        ]

    assert answers[0] == answers[2] == {"data": {"__typename": "Query"}}
    assert answers[1]["errors"][0]["message"] == "PersistedQueryNotFound"  # evicted


def test_query_cache_is_bounded_lru() -> None:
    cache = QueryCache(2)
    cache.put("a", "A")
    cache.put("b", "B")
    assert cache.get("a") == "A"
    cache.put("c", "C")

    assert "b" not in cache and cache.get("a") == "A" and cache.get("c") == "C"
    assert len(cache) == 2


async def test_a_hash_only_get_is_logged_with_its_operation(
    gateway: GatewayHarness, json_logs: JsonLogs
) -> None:
    await post(gateway, query=QUERY, extensions=persisted(), variables=VARIABLES)

    await get(gateway, extensions=persisted(), variables=VARIABLES)

    lines = json_logs.lines("customer_gateway.access")
    assert [(line["method"], line["operation"]) for line in lines] == [
        ("POST", "Showcase"),
        ("GET", "Showcase"),
    ]
