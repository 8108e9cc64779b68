"""The Tofupay simulator over raw HTTP: documented legacy shapes, paging, idempotency, delete."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.providers.tofupay.simulator import create_app, seed_record
from gateway.sandbox.base import simulator_state

KEY = "sk_test_sandbox"
# The customer object exactly as Tofupay documents it (seed 002), card and all.
DOCUMENTED: dict[str, Any] = {
    "object": "customer",
    "created": 1421056271,
    "id": "cus_5V50idQJ7fxkRX",
    "livemode": False,
    "description": "kif",
    "email": "kif@hong.com",
    "delinquent": False,
    "metadata": {},
    "subscriptions": {
        "object": "list",
        "total_count": 0,
        "has_more": False,
        "url": "/v1/customers/cus_5V50idQJ7fxkRX/subscriptions",
        "data": [],
    },
    "discount": None,
    "account_balance": 0,
    "currency": "usd",
    "sources": {
        "object": "list",
        "total_count": 1,
        "has_more": False,
        "url": "/v1/customers/cus_5V50idQJ7fxkRX/sources",
        "data": [
            {
                "id": "card_15g9tMLdZh7jQOUqZKKlKMIr",
                "object": "card",
                "last4": "4242",
                "brand": "Visa",
                "funding": "credit",
                "exp_month": 3,
                "exp_year": 2016,
                "country": "US",
                "name": None,
                "address_line1": None,
                "address_line2": None,
                "address_city": None,
                "address_state": None,
                "address_zip": None,
                "address_country": None,
                "cvc_check": "pass",
                "address_line1_check": None,
                "address_zip_check": None,
                "dynamic_last4": None,
                "metadata": {},
                "customer": "cus_5V50idQJ7fxkRX",
            }
        ],
    },
    "default_source": "card_15g9tMLdZh7jQOUqZKKlKMIr",
}
SEEDS: list[dict[str, Any]] = [
    DOCUMENTED,
    *(
        {"id": f"cus_tofu{i:02d}", "email": f"Person{i:02d}@Example.com", "created": 1421056272 + i}
        for i in range(12)
    ),
]


@pytest.fixture
def app() -> Starlette:
    return create_app(SEEDS)


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://tofupay", auth=(KEY, "")
    ) as session:
        yield session


async def test_documented_customer_round_trips_unchanged(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/customers/cus_5V50idQJ7fxkRX")
    assert response.status_code == 200
    assert response.json() == DOCUMENTED


async def test_create_fills_every_documented_field(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/v1/customers",
        data={
            "email": "new@example.com",
            "description": "Customer for new@example.com",
            "card": "tok_15XZLsLdZh7jQOUq86ISvtjn",
            "metadata[plan]": "pro",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == set(DOCUMENTED)
    assert body["id"].startswith("cus_") and len(body["id"]) == 18
    assert (body["email"], body["description"], body["metadata"]) == (
        "new@example.com",
        "Customer for new@example.com",
        {"plan": "pro"},
    )
    assert (body["account_balance"], body["currency"], body["livemode"]) == (0, None, False)
    card = body["sources"]["data"][0]
    assert set(card) == set(DOCUMENTED["sources"]["data"][0])
    assert (card["last4"], card["object"], card["customer"]) == ("4242", "card", body["id"])
    assert body["default_source"] == card["id"] and body["sources"]["total_count"] == 1
    assert body["sources"]["url"] == f"/v1/customers/{body['id']}/sources"
    assert body["subscriptions"]["data"] == []


async def test_update_changes_only_what_is_sent(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/v1/customers/cus_5V50idQJ7fxkRX",
        data={"description": "Customer for test@example.com", "metadata[a]": "1"},
    )
    body = response.json()
    assert body["description"] == "Customer for test@example.com"
    assert body["email"] == "kif@hong.com" and body["metadata"] == {"a": "1"}
    assert body["sources"] == DOCUMENTED["sources"]
    cleared = (await http.post("/v1/customers/cus_5V50idQJ7fxkRX", data={"metadata": ""})).json()
    assert cleared["metadata"] == {}
    named = await http.post("/v1/customers/cus_5V50idQJ7fxkRX", data={"name": "Kif"})
    assert named.status_code == 400
    assert named.json()["error"]["message"] == "Received unknown parameter: name"
    bad_card = await http.post("/v1/customers/cus_5V50idQJ7fxkRX", data={"card": "4242"})
    assert bad_card.status_code == 400
    assert bad_card.json()["error"]["code"] == "resource_missing"


async def test_list_pages_newest_first(http: httpx.AsyncClient) -> None:
    first = (await http.get("/v1/customers", params={"limit": 5})).json()
    assert set(first) == {"object", "url", "has_more", "data"}
    assert (first["object"], first["url"], first["has_more"]) == ("list", "/v1/customers", True)
    seen = [c["id"] for c in first["data"]]
    while True:
        page = (
            await http.get("/v1/customers", params={"limit": 5, "starting_after": seen[-1]})
        ).json()
        seen += [c["id"] for c in page["data"]]
        if not page["has_more"]:
            break
    assert seen == [*(f"cus_tofu{i:02d}" for i in range(11, -1, -1)), "cus_5V50idQJ7fxkRX"]
    before = (
        await http.get("/v1/customers", params={"limit": 2, "ending_before": "cus_tofu05"})
    ).json()
    assert [c["id"] for c in before["data"]] == ["cus_tofu07", "cus_tofu06"]
    assert (await http.get("/v1/customers", params={"limit": 101})).status_code == 400
    both = await http.get("/v1/customers", params={"starting_after": "a", "ending_before": "b"})
    assert both.status_code == 400


async def test_email_filter_ignores_case(http: httpx.AsyncClient) -> None:
    body = (await http.get("/v1/customers", params={"email": "person03@example.COM"})).json()
    assert [c["id"] for c in body["data"]] == ["cus_tofu03"]
    assert (await http.get("/v1/customers", params={"email": "person03@example"})).json()[
        "data"
    ] == []


async def test_delete_then_retrieve(http: httpx.AsyncClient) -> None:
    deleted = await http.delete("/v1/customers/cus_tofu01")
    assert deleted.status_code == 200
    assert deleted.json() == {"deleted": True, "id": "cus_tofu01"}
    gone = await http.get("/v1/customers/cus_tofu01")
    assert gone.json() == {"id": "cus_tofu01", "object": "customer", "deleted": True}
    listed = (await http.get("/v1/customers", params={"limit": 100})).json()
    assert "cus_tofu01" not in [c["id"] for c in listed["data"]]
    again = await http.delete("/v1/customers/cus_tofu01")
    assert again.status_code == 404
    update = await http.post("/v1/customers/cus_tofu01", data={"email": "x@example.com"})
    assert update.status_code == 404


async def test_missing_customer_and_search_are_stripe_style_404s(http: httpx.AsyncClient) -> None:
    missing = await http.get("/v1/customers/cus_nope")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "message": "No such customer: 'cus_nope'",
            "param": "id",
            "doc_url": "https://tofupay.com/docs/api#errors",
        }
    }
    search = await http.get("/v1/customers/search", params={"query": "email:'a@b.c'"})
    assert search.status_code == 404
    assert search.json()["error"]["type"] == "invalid_request_error"


async def test_idempotency_replays_and_guards(http: httpx.AsyncClient, app: Starlette) -> None:
    headers = {"Idempotency-Key": "tofu-1"}
    first = await http.post("/v1/customers", data={"email": "i@example.com"}, headers=headers)
    second = await http.post("/v1/customers", data={"email": "i@example.com"}, headers=headers)
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    other = await http.post("/v1/customers", data={"email": "j@example.com"}, headers=headers)
    assert other.status_code == 400
    assert other.json()["error"]["type"] == "idempotency_error"
    elsewhere = await http.post(
        "/v1/customers/cus_tofu02", data={"email": "i@example.com"}, headers=headers
    )
    assert elsewhere.json()["error"]["type"] == "idempotency_error"
    listed = (await http.get("/v1/customers", params={"email": "i@example.com"})).json()
    assert len(listed["data"]) == 1
    assert simulator_state(app).log[0].headers["idempotency-key"] == "tofu-1"


async def test_auth_is_required(app: Starlette) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://tofupay"
    ) as session:
        anonymous = await session.get("/v1/customers")
        wrong = await session.get("/v1/customers", auth=("sk_test_qg15eqpUrbT6Gufhjq9ds0Jc", ""))
        bearer = await session.get("/v1/customers", headers={"Authorization": f"Bearer {KEY}"})
    assert anonymous.status_code == wrong.status_code == 401
    message = wrong.json()["error"]["message"]
    assert "qg15eqpUrbT6Gufhjq9ds0Jc" not in message and message.endswith("s0Jc")
    assert bearer.status_code == 200


def test_seed_record_fills_defaults_and_checks_types() -> None:
    filled = seed_record({"id": "cus_min", "email": "a@b.c"})
    assert set(filled) == set(DOCUMENTED)
    assert filled["sources"]["url"] == "/v1/customers/cus_min/sources"
    assert filled["default_source"] is None and filled["account_balance"] == 0
    with pytest.raises(ValueError, match="account_balance"):
        seed_record({"id": "cus_x", "account_balance": "12"})
    with pytest.raises(ValueError, match="sources"):
        seed_record({"id": "cus_x", "sources": []})


@pytest.mark.parametrize(
    ("record", "named"),
    [
        ({"id": "cus_x", "name": "Kif"}, "name"),  # the legacy object has no name
        ({"id": "cus_x", "address": None}, "address"),
        ({"id": "cus_x", "email": "nope"}, "email"),
        ({"id": "cus_x", "email": 7}, "email"),
        ({"id": "cus_x", "description": ["kif"]}, "description"),
        ({"id": "cus_x", "metadata": {"a": 1}}, "metadata"),
        ({"id": "cus_x", "metadata": {"k" * 41: "v"}}, "metadata"),
        ({"id": "cus_x", "currency": 840}, "currency"),
        ({"id": "cus_x", "subscriptions": {"data": []}}, "subscriptions"),
        ({"id": "cus_x", "default_source": {"id": "card_1"}}, "default_source"),
        ({"id": "cus_x", "created": 1.5}, "created"),
        ({"id": "cus_5V50-dQJ7fxkRX"}, "id"),
        ({"id": "5V50idQJ7fxkRX"}, "id"),
    ],
)
def test_seed_record_refuses_what_tofupay_would(record: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        seed_record(record)


async def test_every_response_carries_a_request_id_and_replays_name_the_original(
    http: httpx.AsyncClient, app: Starlette
) -> None:
    ok = await http.get("/v1/customers/cus_tofu01")
    missing = await http.get("/v1/customers/cus_nope")
    search = await http.get("/v1/customers/search", params={"query": "email:'a@b.c'"})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://tofupay"
    ) as anonymous:
        unauthorized = await anonymous.get("/v1/customers")
    headers = {"Idempotency-Key": "tofu-rid"}
    first = await http.post("/v1/customers", data={"email": "r@example.com"}, headers=headers)
    replay = await http.post("/v1/customers", data={"email": "r@example.com"}, headers=headers)
    responses = [ok, missing, search, unauthorized, first, replay]
    ids = [r.headers["request-id"] for r in responses]
    assert all(i.startswith("req_") for i in ids) and len(set(ids)) == len(ids)
    assert replay.headers["original-request"] == first.headers["request-id"]
    assert replay.headers["idempotent-replayed"] == "true"
    # Tofupay's doc link is the same for every error; absent code and param are left out.
    assert set(search.json()["error"]) == {"type", "message", "doc_url"}
    assert set(unauthorized.json()["error"]) == {"type", "message", "doc_url"}
