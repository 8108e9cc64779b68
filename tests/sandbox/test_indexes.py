"""The simulators' lookup indexes and cached orders stay in step with creates, updates and deletes.

Each test writes through the API, then checks an indexed lookup against what a scan of the
store's whole list gives (or against a query form that cannot use the index), so a stale index
entry or a stale cached order shows up as a difference.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.providers.chartmogul import simulator as chartmogul
from gateway.providers.firstofficer import simulator as firstofficer
from gateway.providers.lago import simulator as lago
from gateway.providers.registry import BY_NAME
from gateway.providers.stripe import simulator as stripe
from gateway.providers.stripe_like.simulator import CustomerStore, customer_api
from gateway.providers.tofupay import simulator as tofupay
from gateway.sandbox.coerce import email_key
from gateway.sandbox.stores import store_of


def _client(app: Starlette, headers: dict[str, str]) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox", headers=headers
    )


def bearer(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {BY_NAME[name].sandbox_key}"}


class FakeClock:
    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# -- Stripe --------------------------------------------------------------------------------


StripeHarness = tuple[httpx.AsyncClient, FakeClock, CustomerStore]


@pytest.fixture
async def stripe_http() -> AsyncIterator[StripeHarness]:
    records = [
        {"id": f"cus_s{i}", "email": f"u{i}@x.example", "created": 1_700_000_000 + i}
        | {"metadata": {"company_id": f"co_{i % 3}"}}
        for i in range(6)
    ]
    app = stripe.create_app(records)
    clock = FakeClock()
    api = customer_api(app)
    api.store.clock = clock
    api.idempotency.clock = clock
    async with _client(app, bearer("stripe")) as http:
        yield http, clock, api.store


async def search_ids(http: httpx.AsyncClient, query: str) -> list[str]:
    response = await http.get("/v1/customers/search", params={"query": query, "limit": "100"})
    assert response.status_code == 200, response.text
    return [obj["id"] for obj in response.json()["data"]]


async def test_stripe_search_index_follows_writes(stripe_http: StripeHarness) -> None:
    http, _, _ = stripe_http
    created = await http.post(
        "/v1/customers", data={"email": "New@X.example", "metadata[company_id]": "co_1"}
    )
    new_id = created.json()["id"]
    assert await search_ids(http, "email:'new@x.example'") == [new_id]
    assert await search_ids(http, "metadata['company_id']:'co_1'") == [new_id, "cus_s4", "cus_s1"]

    await http.post(f"/v1/customers/{new_id}", data={"email": "moved@x.example"})
    await http.post("/v1/customers/cus_s4", data={"metadata[company_id]": ""})
    await http.delete("/v1/customers/cus_s1")
    assert await search_ids(http, "email:'new@x.example'") == []
    assert await search_ids(http, "email:'MOVED@x.example'") == [new_id]
    assert await search_ids(http, "metadata['company_id']:'co_1'") == [new_id]

    # The indexed OR form and a form that must scan (a name clause matching nothing) agree.
    query = "email:'u0@x.example' OR email:'u3@x.example' OR metadata['company_id']:'co_2'"
    indexed = await search_ids(http, query)
    assert indexed == ["cus_s5", "cus_s3", "cus_s2", "cus_s0"]
    assert await search_ids(http, query + " OR name:'nobody'") == indexed


async def test_stripe_search_index_keeps_versions_the_lag_still_shows(
    stripe_http: StripeHarness,
) -> None:
    http, clock, store = stripe_http
    await http.post("/v1/customers/cus_s2", data={"email": "later@x.example"})
    clock.now += 120
    store.search_lag_seconds = 60
    await http.post("/v1/customers/cus_s2", data={"email": "latest@x.example"})
    assert await search_ids(http, "email:'later@x.example'") == ["cus_s2"]
    assert await search_ids(http, "email:'latest@x.example'") == []
    clock.now += 61
    assert await search_ids(http, "email:'later@x.example'") == []
    assert await search_ids(http, "email:'latest@x.example'") == ["cus_s2"]


async def all_listed(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Every live customer by walking the unfiltered list (the scan the index must match)."""
    out: list[dict[str, Any]] = []
    params = {"limit": "2"}
    while True:
        body = (await http.get("/v1/customers", params=params)).json()
        out.extend(body["data"])
        if not body["has_more"]:
            return out
        params = {"limit": "2", "starting_after": body["data"][-1]["id"]}


@pytest.mark.parametrize("module", [stripe, tofupay], ids=["stripe", "tofupay"])
async def test_list_email_filter_index_follows_writes(module: Any) -> None:
    records = [{"id": f"cus_t{i}", "email": f"t{i % 2}@x.example", "created": i} for i in range(6)]
    app = module.create_app(records)
    async with _client(app, bearer(module.__name__.split(".")[2])) as http:
        second = await http.post("/v1/customers", data={"email": "T0@x.example"})
        await http.post("/v1/customers/cus_t2", data={"email": "other@x.example"})
        await http.delete("/v1/customers/cus_t4")
        listed = await all_listed(http)
        api = customer_api(app)
        for wanted in ("t0@x.example", "T0@x.example", "other@x.example", "t1@x.example"):
            expected = [o["id"] for o in listed if api.shape.email_matches(o.get("email"), wanted)]
            response = await http.get("/v1/customers", params={"email": wanted, "limit": "100"})
            assert [o["id"] for o in response.json()["data"]] == expected, wanted
        # A cursor hidden by the filter still places the page; the email filter narrows it.
        page = await http.get(
            "/v1/customers",
            params={"email": "t0@x.example", "starting_after": "cus_t3", "limit": "1"},
        )
        body = page.json()
        assert [o["id"] for o in body["data"]] == ["cus_t0"]
        assert body["has_more"] is False
        assert second.status_code == 200


# -- ChartMogul ----------------------------------------------------------------------------


@pytest.fixture
async def cm_http() -> AsyncIterator[httpx.AsyncClient]:
    records = [
        {"id": i, "uuid": f"cus_0000000{i}-0000-4000-8000-000000000000", "email": f"c{i}@x.ex"}
        | {"external_id": f"ext_{i}"}
        for i in range(1, 5)
    ]
    token = base64.b64encode(f"{BY_NAME['chartmogul'].sandbox_key}:".encode()).decode()
    async with _client(chartmogul.create_app(records), {"Authorization": f"Basic {token}"}) as h:
        yield h


def cm_uuid(i: int) -> str:
    return f"cus_0000000{i}-0000-4000-8000-000000000000"


async def cm_search(http: httpx.AsyncClient, email: str) -> list[int]:
    response = await http.get("/v1/customers/search", params={"email": email})
    return [e["id"] for e in response.json()["entries"]] if response.status_code == 200 else []


async def cm_by_external_id(http: httpx.AsyncClient, external_id: str) -> list[int]:
    response = await http.get("/v1/customers", params={"external_id": external_id})
    return [e["id"] for e in response.json()["entries"]]


async def test_chartmogul_indexes_follow_update_merge_delete_and_create(
    cm_http: httpx.AsyncClient,
) -> None:
    http = cm_http
    await http.patch(f"/v1/customers/{cm_uuid(2)}", json={"email": " C1@X.ex "})
    assert await cm_search(http, "c1@x.ex") == [1, 2]
    assert await cm_search(http, "c2@x.ex") == []

    merge = {"from": {"customer_uuid": cm_uuid(3)}, "into": {"customer_uuid": cm_uuid(4)}}
    assert (await http.post("/v1/customers/merges", json=merge)).status_code == 202
    assert await cm_by_external_id(http, "ext_3") == [4]
    assert await cm_search(http, "c3@x.ex") == []

    assert (await http.delete(f"/v1/customers/{cm_uuid(4)}")).status_code == 204
    assert await cm_by_external_id(http, "ext_3") == []
    body = {"data_source_uuid": chartmogul.DEFAULT_DATA_SOURCE_UUID, "name": "N"}
    again = await http.post("/v1/customers", json=body | {"external_id": "ext_3"})
    assert again.status_code == 201  # the deleted customer's external id is free again
    duplicate = await http.post("/v1/customers", json=body | {"external_id": "ext_3"})
    assert duplicate.status_code == 422
    assert await cm_by_external_id(http, "ext_3") == [again.json()["id"]]
    listed = (await http.get("/v1/customers")).json()["entries"]
    assert [e["id"] for e in listed] == [1, 2, again.json()["id"]]


async def test_chartmogul_store_lookups_equal_a_scan_after_writes() -> None:
    records = [
        {"id": i, "uuid": cm_uuid(i), "email": f"c{i % 2}@x.ex", "external_id": f"ext_{i}"}
        for i in range(1, 6)
    ]
    token = base64.b64encode(f"{BY_NAME['chartmogul'].sandbox_key}:".encode()).decode()
    app = chartmogul.create_app(records)
    async with _client(app, {"Authorization": f"Basic {token}"}) as http:
        await http.patch(f"/v1/customers/{cm_uuid(1)}", json={"email": "C9@x.ex"})
        merge = {"from": {"customer_uuid": cm_uuid(2)}, "into": {"customer_uuid": cm_uuid(5)}}
        await http.post("/v1/customers/merges", json=merge)
        await http.delete(f"/v1/customers/{cm_uuid(3)}")
    store = store_of(app, chartmogul.CustomerStore)
    scan = sorted(store.customers.values(), key=lambda r: r["id"])
    for email in ("c0@x.ex", "C1@X.EX ", "c9@x.ex"):
        wanted = [r for r in scan if email_key(r["email"]) == email_key(email)]
        assert store.with_email(email) == wanted, email
    for external_id in (f"ext_{i}" for i in range(1, 6)):
        wanted = [r for r in scan if external_id in r["external_ids"]]
        assert store.with_external_id(external_id) == wanted, external_id


# -- FirstOfficer --------------------------------------------------------------------------


async def test_firstofficer_lookups_follow_updates_and_pick_the_lowest_id() -> None:
    records: list[dict[str, Any]] = [
        {"id": 7, "email": "a@x.ex", "extra_id": "shared", "stripe_id": "cus_a"},
        {"id": 3, "email": "b@x.ex", "extra_id": "shared"},
        {"email": "c@x.ex"},  # gets the next free id, 8
    ]
    headers = {"Authorization": f'Token token="{BY_NAME["firstofficer"].sandbox_key}"'}
    app = firstofficer.create_app(records)
    async with _client(app, headers) as http:

        async def found(identifier: str) -> int | None:
            response = await http.get(f"/v2/customers/{identifier}")
            return response.json()["id"] if response.status_code == 200 else None

        assert [await found(v) for v in ("shared", "cus_a", " C@X.EX", "8")] == [3, 7, 8, 8]
        await http.put("/v2/customers/3", data={"extra_id": "", "email": "b2@x.ex"})
        assert [await found(v) for v in ("shared", "b@x.ex", "B2@x.ex")] == [7, None, 3]
        clash = await http.put("/v2/customers/7", data={"email": "b2@x.ex"})
        assert clash.status_code == 400
        created = await http.post("/v2/customers", data={"email": "d@x.ex", "extra_id": "shared"})
        assert created.json()["id"] == 9
        page = (await http.get("/v2/customers", params={"starting_after": "7"})).json()
        assert [c["id"] for c in page["data"]] == [8, 9]
        assert page["has_more"] is False
    store = store_of(app, firstofficer.CustomerStore)
    scan = [store.by_id[i] for i in sorted(store.by_id)]
    for field, value in [("extra_id", "shared"), ("email", "B2@X.EX"), ("stripe_id", "cus_a")]:
        key = email_key if field == "email" else str
        wanted = next((c for c in scan if c[field] and key(c[field]) == key(value)), None)
        assert store.first(field, value) is wanted, (field, value)


# -- Lago ----------------------------------------------------------------------------------


async def test_lago_search_term_follows_writes_and_never_matches_across_fields() -> None:
    records: list[dict[str, Any]] = [
        {"external_id": f"e{i}", "name": f"Name {i}", "email": f"p{i}@x.example"}
        | {"created_at": "2024-01-01T00:00:00Z"}
        for i in range(4)
    ]
    async with _client(lago.create_app(records), bearer("lago")) as http:

        async def found(term: str) -> list[str]:
            response = await http.get("/api/v1/customers", params={"search_term": term})
            return [c["external_id"] for c in response.json()["customers"]]

        everyone = await found("x.example")
        assert sorted(everyone) == ["e0", "e1", "e2", "e3"]
        customer = {"external_id": "e1", "email": "moved@y.example", "name": "Renamed"}
        await http.post("/api/v1/customers", json={"customer": customer})
        await http.delete("/api/v1/customers/e2")
        assert await found("P1@X") == []
        assert await found("MOVED@") == ["e1"]
        assert await found("x.example") == [e for e in everyone if e not in ("e1", "e2")]
        # Fields are searched one by one: a term spanning two of them matches nothing.
        assert await found("3\x00p3") == []
        assert await found("name 3") == ["e3"]
