"""FirstOfficer seeds: defaults filled, and refused where the API would refuse the record.

Emails and Stripe ids are checked by the same functions the create and update routes use, so
the last tests show the routes refusing what a seed may not hold.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
import pytest
from starlette.applications import Starlette

from gateway.providers.firstofficer.simulator import CustomerStore, create_app, seed_record
from gateway.providers.firstofficer.simulator.shape import Refused
from gateway.sandbox.stores import store_of
from tests.providers.firstofficer.test_simulator import ADA


def test_seed_record_fills_defaults() -> None:
    assert seed_record({"id": 7}) == {
        "object": "customer",
        "id": 7,
        "stripe_id": None,
        "extra_id": None,
        "email": None,
        "name": None,
        "total_contract_value": 0,
        "current_mrr": 0,
        "current_subscription_count": 0,
        "currency": "usd",
        "country": None,
        "state": None,
    }
    assert seed_record(ADA) == ADA


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"id": "7"}, "id must be an integer, not '7'"),
        ({"id": True}, "id must be an integer, not True"),
        ({"id": 7.0}, "id must be an integer, not 7.0"),
        ({"id": 0}, "id must be a positive integer, not 0"),
        ({"id": -3}, "id must be a positive integer, not -3"),
        ({"emial": "x@example.com"}, "unknown FirstOfficer customer fields: emial"),
        ({"current_mrr": 1.5}, "current_mrr must be an integer"),
        ({"current_subscription_count": False}, "current_subscription_count must be an integer"),
        ({"name": 5}, "name must be a string or null"),
        ({"currency": ["usd"]}, "currency must be a string or null"),
        ({"stripe_id": "acct_1"}, "stripe_id: Invalid Stripe customer id: 'acct_1'."),
        ({"email": "no-at-sign"}, "email: Invalid email address: 'no-at-sign'."),
        ({"email": ""}, "email: Invalid email address: ''."),
        ({"object": "invoice"}, "object must be 'customer'"),
    ],
)
def test_seed_record_refuses(record: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        seed_record(record)
    assert str(caught.value).startswith(message)


def test_seed_record_refuses_a_non_object() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        seed_record(cast(Any, [1]))


def test_create_app_rejects_duplicates() -> None:
    with pytest.raises(ValueError, match="email"):
        create_app([{"email": "a@example.com"}, {"email": " A@EXAMPLE.com"}])
    with pytest.raises(ValueError, match="id"):
        create_app([{"id": 1}, {"id": 1}])
    with pytest.raises(ValueError, match="stripe_id"):
        create_app([{"stripe_id": "cus_1"}, {"stripe_id": "cus_1"}])


# --- the routes apply the same rules ---------------------------------------------------------


@pytest.fixture
def app() -> Starlette:
    return create_app([ADA])


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://sandbox/v2",
        headers={"Authorization": 'Token token="sandbox"'},
    ) as client:
        yield client


def _refused(record: dict[str, Any]) -> Refused:
    with pytest.raises(Refused) as caught:
        seed_record(record)
    return caught.value


async def test_create_and_update_refuse_the_email_a_seed_may_not_hold(
    http: httpx.AsyncClient,
) -> None:
    seed = _refused({"email": "nobody"})
    created = await http.post("/customers", data={"email": "nobody"})
    updated = await http.put(f"/customers/{ADA['id']}", data={"email": "nobody"})
    for response in (created, updated):
        assert response.status_code == 400
        error = response.json()["error"]
        assert (error["param"], error["message"]) == (seed.param, seed.message)


async def test_create_refuses_the_stripe_id_a_seed_may_not_hold(http: httpx.AsyncClient) -> None:
    seed = _refused({"stripe_id": "acct_1"})
    response = await http.post("/customers", data={"email": "new@x.example", "stripe_id": "acct_1"})
    error = response.json()["error"]
    assert (response.status_code, error["param"], error["message"]) == (
        400,
        seed.param,
        seed.message,
    )


async def test_the_routes_use_the_store_on_app_state(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    store = store_of(app, CustomerStore)
    assert list(store.by_id) == [ADA["id"]]
    created = (await http.post("/customers", data={"email": "new@x.example"})).json()
    assert store.by_id[created["id"]] == created
