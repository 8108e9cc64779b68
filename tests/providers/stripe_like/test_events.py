"""The Stripe-like simulators' Events API: what API writes record, and Stripe's list semantics."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.providers.stripe.simulator import create_app as stripe_app
from gateway.providers.stripe_like.simulator import customer_api
from gateway.providers.stripe_like.simulator.events import RETENTION
from gateway.providers.tofupay.simulator import create_app as tofupay_app

KEY = "sk_test_sandbox"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(params=[stripe_app, tofupay_app], ids=["stripe", "tofupay"])
def app(request: pytest.FixtureRequest) -> Starlette:
    make: Callable[..., Starlette] = request.param
    return make([{"id": "cus_SEEDED01", "email": "seed@example.com"}])


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim", headers=AUTH) as c:
        yield c


async def events(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/v1/events", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_api_writes_record_customer_events_and_seeding_does_not(
    client: httpx.AsyncClient,
) -> None:
    assert (await events(client))["data"] == []
    created = (await client.post("/v1/customers", data={"email": "a@example.com"})).json()
    await client.post(f"/v1/customers/{created['id']}", data={"email": "b@example.com"})
    await client.post(f"/v1/customers/{created['id']}", data={"email": "b@example.com"})
    await client.delete(f"/v1/customers/{created['id']}")

    body = await events(client)
    assert body["object"] == "list" and body["url"] == "/v1/events"
    assert body["has_more"] is False
    # Newest first; the update that changed nothing recorded nothing.
    assert [e["type"] for e in body["data"]] == [
        "customer.deleted",
        "customer.updated",
        "customer.created",
    ]
    deleted, updated, first = body["data"]
    assert first["data"]["object"] == created
    assert first["id"].startswith("evt_") and first["object"] == "event"
    assert first["livemode"] is False and first["pending_webhooks"] == 0
    assert first["request"]["id"].startswith("req_")
    assert "previous_attributes" not in first["data"]
    assert updated["data"]["object"]["email"] == "b@example.com"
    assert updated["data"]["previous_attributes"] == {"email": "a@example.com"}
    assert deleted["data"]["object"]["id"] == created["id"]
    assert deleted["data"]["object"]["email"] == "b@example.com"
    one = await client.get(f"/v1/events/{first['id']}")
    assert one.json() == first


async def test_previous_attributes_of_a_hash_name_only_its_changed_keys(
    client: httpx.AsyncClient,
) -> None:
    data = {"email": "a@example.com", "metadata[kept]": "1", "metadata[old]": "x"}
    created = (await client.post("/v1/customers", data=data)).json()
    change = {"metadata[old]": "y", "metadata[new]": "z"}
    await client.post(f"/v1/customers/{created['id']}", data=change)
    updated = (await events(client, limit=1))["data"][0]
    assert updated["data"]["previous_attributes"] == {"metadata": {"new": None, "old": "x"}}


async def test_an_idempotent_replay_records_no_second_event(client: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "k1"}
    for _ in range(2):
        await client.post("/v1/customers", data={"email": "a@example.com"}, headers=headers)
    [event] = (await events(client))["data"]
    assert event["request"]["idempotency_key"] == "k1"


async def test_lists_page_with_cursors_types_and_created(
    client: httpx.AsyncClient, app: Starlette
) -> None:
    ids = []
    for i in range(5):
        ids.append((await client.post("/v1/customers", data={"email": f"{i}@x.io"})).json()["id"])
    await client.post(f"/v1/customers/{ids[0]}", data={"email": "new@x.io"})
    everything = [e["id"] for e in (await events(client, limit=100))["data"]]
    assert len(everything) == 6

    first = await events(client, limit=2)
    assert [e["id"] for e in first["data"]] == everything[:2] and first["has_more"] is True
    after = await events(client, limit=2, starting_after=everything[1])
    assert [e["id"] for e in after["data"]] == everything[2:4]
    # ending_before: the events just newer than the cursor, still newest first.
    before = await events(client, limit=2, ending_before=everything[4])
    assert [e["id"] for e in before["data"]] == everything[2:4] and before["has_more"] is True

    assert len((await events(client, type="customer.*"))["data"]) == 6
    updated = await events(client, type="customer.updated")
    assert [e["type"] for e in updated["data"]] == ["customer.updated"]
    typed = await client.get(
        "/v1/events", params=[("types[]", "customer.updated"), ("types[]", "customer.deleted")]
    )
    assert len(typed.json()["data"]) == 1
    both = await client.get(
        "/v1/events", params=[("type", "customer.created"), ("types[]", "customer.updated")]
    )
    assert both.status_code == 400

    log = customer_api(app).events
    stamp = log.events[0]["created"]
    assert len((await events(client, **{"created[gte]": stamp}))["data"]) == 6
    assert (await events(client, **{"created[lt]": stamp}))["data"] == []

    missing = await client.get("/v1/events", params={"starting_after": "evt_nope"})
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "resource_missing"
    assert (await client.get("/v1/events", params={"limit": 101})).status_code == 400
    assert (await client.get("/v1/events/evt_nope")).status_code == 404


async def test_events_older_than_thirty_days_are_no_longer_listed(
    client: httpx.AsyncClient, app: Starlette
) -> None:
    await client.post("/v1/customers", data={"email": "a@example.com"})
    log = customer_api(app).events
    old = log.events[0]
    old["created"] -= int(RETENTION) + 1
    assert (await events(client))["data"] == []
    assert (await client.get(f"/v1/events/{old['id']}")).status_code == 404
