"""ChartMogul seeds: every documented field filled, and refused where the API would refuse.

The create and update routes use the same value checks as seeds; the tests at the end show a
value refused in a seed is refused (422) by the routes too.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
import pytest
from starlette.applications import Starlette

from gateway.providers.chartmogul.simulator import (
    DEFAULT_DATA_SOURCE_UUID,
    CustomerStore,
    create_app,
    seed_record,
)
from gateway.providers.chartmogul.simulator.shape import FIELDS
from gateway.sandbox.stores import store_of
from tests.providers.chartmogul.test_simulator import (
    DOCUMENTED_KEYS,
    SEEDED_UUID,
    STRIPE_CUSTOMER,
)


def test_the_known_fields_are_the_documented_keys() -> None:
    assert FIELDS == DOCUMENTED_KEYS


def test_seed_record_fills_every_documented_field() -> None:
    record = seed_record(
        {"external_id": "e1", "attributes": {"custom": [{"key": "k", "value": 1}]}, "mrr": 500}
    )
    assert set(record) == DOCUMENTED_KEYS
    assert record["uuid"].startswith("cus_") and isinstance(record["id"], int)
    assert record["data_source_uuid"] == DEFAULT_DATA_SOURCE_UUID
    assert (record["mrr"], record["arr"], record["status"]) == (500, 6000, "Active")
    assert record["attributes"]["custom"] == {"k": 1}
    assert record["billing-system-type"] == "Import API"
    kept = seed_record(STRIPE_CUSTOMER)
    assert (kept["id"], kept["uuid"], kept["email"]) == (25647, SEEDED_UUID, "Ada@Example.com")


def test_a_full_answer_seeds_back_unchanged() -> None:
    full = seed_record(STRIPE_CUSTOMER)
    assert seed_record(full) == full


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"emial": "a@b.example"}, "unknown ChartMogul customer fields: emial"),
        ({"uuid": "cus_4Z2ZpyJFuQ0XMb"}, "uuid"),
        ({"data_source_uuid": "abc"}, "data source"),
        ({"data_source_uuids": ["ds_1"]}, "data source"),
        ({"data_source_uuids": "ds_x"}, "data_source_uuids"),
        ({"external_ids": [1]}, "external_ids"),
        ({"mrr": "30.00"}, "mrr"),
        ({"arr": True}, "arr"),
        ({"id": "7"}, "id"),
        ({"id": True}, "id"),
        ({"id": 0}, "id must be a positive integer"),
        ({"email": 5}, "email must be a string"),
        ({"status": ["Active"]}, "status must be a string"),
        ({"billing-system-type": 1}, "billing-system-type must be a string"),
        ({"attributes": "x"}, "attributes must be an object"),
        ({"attributes": {"custom": ["x"]}}, "attributes.custom"),
        ({"attributes": {"tags": "vip"}}, "attributes.tags"),
        ({"attributes": {"stripe": []}}, "attributes.stripe must be an object"),
        ({"attributes": {"hubspot": {}}}, "unknown ChartMogul attributes fields: hubspot"),
        ({"address": "London"}, "address must be an object"),
        ({"address": {"street": "x"}}, "unknown ChartMogul address fields: street"),
        ({"address": {"city": 1}}, "address.city must be a string"),
    ],
)
def test_seed_record_refuses(record: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        seed_record(record)


def test_seed_record_refuses_a_non_object() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        seed_record(cast(Any, ["uuid"]))


def test_create_app_refuses_a_bad_seed() -> None:
    with pytest.raises(ValueError, match="unknown ChartMogul customer fields: nickname"):
        create_app([{"external_id": "e", "nickname": "Ada"}])


# --- the routes apply the same rules ---------------------------------------------------------


@pytest.fixture
def app() -> Starlette:
    return create_app([STRIPE_CUSTOMER])


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    token = base64.b64encode(b"sandbox:").decode()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://sandbox/v1",
        headers={"Authorization": f"Basic {token}"},
    ) as client:
        yield client


NEW = {"data_source_uuid": DEFAULT_DATA_SOURCE_UUID, "external_id": "new", "name": "New"}


@pytest.mark.parametrize(
    ("attributes", "errors"),
    [
        ("x", {"attributes": "must be an object"}),
        ({"stripe": ["x"]}, {"attributes": "attributes.stripe must be an object"}),
        ({"tags": "vip"}, {"attributes": "attributes.tags must be a list of strings"}),
    ],
)
async def test_create_refuses_attributes_a_seed_may_not_have(
    http: httpx.AsyncClient, attributes: Any, errors: dict[str, str]
) -> None:
    """A create with non-object attributes used to be accepted with the attributes dropped."""
    response = await http.post("/customers", json=NEW | {"attributes": attributes})
    assert (response.status_code, response.json()) == (422, {"errors": errors})
    with pytest.raises(ValueError, match="attributes"):
        seed_record({"attributes": attributes})


async def test_create_and_update_refuse_non_string_fields_like_seeds(
    http: httpx.AsyncClient,
) -> None:
    created = await http.post("/customers", json=NEW | {"email": 5})
    assert (created.status_code, created.json()) == (422, {"errors": {"email": "must be a string"}})
    updated = await http.patch(f"/customers/{SEEDED_UUID}", json={"email": 5})
    assert (updated.status_code, updated.json()) == (422, {"errors": {"email": "must be a string"}})
    with pytest.raises(ValueError, match="email must be a string"):
        seed_record({"email": 5})


async def test_the_routes_use_the_store_on_app_state(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    store = store_of(app, CustomerStore)
    assert list(store.customers) == [SEEDED_UUID]
    created = (await http.post("/customers", json=NEW)).json()
    assert store.get(created["uuid"]) == created
