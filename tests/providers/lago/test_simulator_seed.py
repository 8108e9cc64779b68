"""Lago seeds: defaults filled, ids and times kept, and refused where Lago would refuse them.

A seed's values go through the upsert route's own rules (``CustomerInput``), so the route tests
at the end show the same value refused by both; the accepted codes are the OpenAPI document's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
import pytest
from starlette.applications import Starlette

from gateway.providers.lago.simulator import CustomerStore, create_app, seed_record
from gateway.providers.lago.simulator.codes import COUNTRIES, CURRENCIES, TIMEZONES
from gateway.sandbox.stores import store_of
from tests.providers.lago.conftest import OpenAPI


def test_codes_are_the_openapi_documents_enums(openapi: OpenAPI) -> None:
    schemas = openapi.document["components"]["schemas"]
    assert set(schemas["Currency"]["enum"]) == CURRENCIES
    assert set(schemas["Country"]["enum"]) == COUNTRIES
    assert set(schemas["Timezone"]["enum"]) == TIMEZONES


def test_seed_record_fills_defaults_and_keeps_given_values(openapi: OpenAPI) -> None:
    full = seed_record(
        {
            "external_id": "seeded",
            "lago_id": "1a901a90-1a90-1a90-1a90-1a901a901a90",
            "sequential_id": 42,
            "name": "Seeded",
            "country": "de",
            "created_at": "2023-03-01T12:00:00Z",
            "metadata": [{"key": "tier", "value": "a"}],
            "billing_configuration": {
                "payment_provider": "stripe",
                "provider_customer_id": "cus_1",
            },
        }
    )
    openapi.validate("GET", "/api/v1/customers/seeded", 200, {"customer": full})
    assert full["lago_id"] == "1a901a90-1a90-1a90-1a90-1a901a901a90"
    assert full["slug"].endswith("-042") and full["country"] == "DE"
    assert full["created_at"] == full["updated_at"] == "2023-03-01T12:00:00Z"
    assert full["metadata"][0]["display_in_invoice"] is False
    assert full["metadata"][0]["created_at"] == "2023-03-01T12:00:00Z"
    assert full["billing_configuration"]["provider_customer_id"] == "cus_1"


def test_a_full_answer_seeds_back_unchanged() -> None:
    full = seed_record(
        {
            "external_id": "again",
            "email": "a@b.example",
            "timezone": "Europe/Paris",
            "shipping_address": {"city": "Paris", "country": "FR"},
            "metadata": [
                {
                    "lago_id": "2b901a90-1a90-1a90-1a90-1a901a901a90",
                    "key": "k",
                    "value": "v",
                    "display_in_invoice": True,
                    "created_at": "2024-05-01T00:00:00Z",
                }
            ],
        }
    )
    assert seed_record(full) == full


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"name": "no id"}, "external_id must be a non-empty string"),
        ({"external_id": " "}, "external_id must be a non-empty string"),
        ({"external_id": 7}, "external_id must be a non-empty string"),
        ({"external_id": "x", "nmae": "A"}, "unknown Lago customer fields: nmae"),
        ({"external_id": "x", "tax_codes": ["vat"]}, "unknown Lago customer fields: tax_codes"),
        ({"external_id": "x", "country": "Narnia"}, "country: country_code_invalid"),
        ({"external_id": "x", "currency": "??"}, "currency: value_is_invalid"),
        # Known to ISO 4217 and the IANA database, but not in Lago's OpenAPI enums.
        ({"external_id": "x", "currency": "BHD"}, "currency: value_is_invalid"),
        ({"external_id": "x", "timezone": "America/Boise"}, "timezone: invalid_timezone"),
        ({"external_id": "x", "email": "not-an-email"}, "email: invalid_email_format"),
        ({"external_id": "x", "customer_type": "robot"}, "customer_type: value_is_invalid"),
        ({"external_id": "x", "name": 5}, "name must be a string or null"),
        ({"external_id": "x", "lago_id": "nope"}, "lago_id must be a UUID"),
        ({"external_id": "x", "sequential_id": 0}, "sequential_id must be a positive integer"),
        ({"external_id": "x", "created_at": "yesterday"}, "created_at must be an ISO 8601 time"),
        ({"external_id": "x", "created_at": 1700000000}, "created_at must be an ISO 8601 time"),
        ({"external_id": "x", "net_payment_term": "30"}, "net_payment_term must be an integer"),
        ({"external_id": "x", "net_payment_term": -1}, "net_payment_term: value_is_invalid"),
        (
            {"external_id": "x", "finalize_zero_amount_invoice": "never"},
            "finalize_zero_amount_invoice: invalid_value",
        ),
        (
            {"external_id": "x", "skip_invoice_custom_sections": "no"},
            "skip_invoice_custom_sections must be true or false",
        ),
        ({"external_id": "x", "billing_configuration": []}, "billing_configuration must be"),
        (
            {"external_id": "x", "billing_configuration": {"iban": "x"}},
            "unknown Lago billing_configuration fields: iban",
        ),
        (
            {"external_id": "x", "billing_configuration": {"sync": "yes"}},
            "billing_configuration.sync must be true or false",
        ),
        (
            {"external_id": "x", "billing_configuration": {"payment_provider": "paypal"}},
            "payment_provider: value_is_invalid",
        ),
        (
            {"external_id": "x", "shipping_address": {"street": "x"}},
            "unknown Lago shipping_address fields: street",
        ),
        (
            {"external_id": "x", "shipping_address": {"country": "ZZ"}},
            "shipping_country: country_code_invalid",
        ),
        ({"external_id": "x", "metadata": {"k": "v"}}, "metadata must be a list"),
        ({"external_id": "x", "metadata": ["k"]}, "metadata items must be objects"),
        (
            {"external_id": "x", "metadata": [{"key": "k", "value": "v", "id": "1"}]},
            "unknown Lago metadata fields: id",
        ),
        ({"external_id": "x", "metadata": [{"key": "k"}]}, "value: value_is_mandatory"),
        (
            {"external_id": "x", "metadata": [{"key": f"k{i}", "value": "v"} for i in range(6)]},
            "metadata: invalid_count",
        ),
        ({"external_id": "x", "taxes": [{"code": "vat"}]}, "taxes must be empty"),
    ],
)
def test_seed_record_refuses(record: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        seed_record(record)


def test_seed_record_refuses_a_non_object() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        seed_record(cast(Any, "x"))


def test_seed_record_accepts_what_lago_documents() -> None:
    record = seed_record({"external_id": "x", "currency": "ANG", "timezone": "GMT+12"})
    assert (record["currency"], record["timezone"]) == ("ANG", "GMT+12")


def test_duplicate_seed_external_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        create_app([{"external_id": "twin"}, {"external_id": "twin"}])


def test_create_app_names_the_refused_record() -> None:
    with pytest.raises(ValueError, match=r"invalid Lago seed record 2: .*nmae"):
        create_app([{"external_id": "a"}, {"external_id": "b", "nmae": "B"}])


# --- the upsert route applies the same rules -------------------------------------------------


@pytest.fixture
def app() -> Starlette:
    return create_app([{"external_id": "seeded"}])


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://sandbox/api/v1",
        headers={"Authorization": "Bearer sandbox"},
    ) as client:
        yield client


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        # pycountry and zoneinfo know these; Lago's documented enums do not (a change: they
        # used to be accepted).
        ("currency", "BHD", "value_is_invalid"),
        ("timezone", "America/Boise", "invalid_timezone"),
        ("country", "ZZ", "country_code_invalid"),
    ],
)
async def test_upsert_refuses_what_seeds_may_not_hold(
    http: httpx.AsyncClient, field: str, value: str, code: str
) -> None:
    response = await http.post("/customers", json={"customer": {"external_id": "n", field: value}})
    assert response.status_code == 422
    assert response.json()["error_details"] == {field: [code]}
    with pytest.raises(ValueError, match=f"{field}: {code}"):
        seed_record({"external_id": "n", field: value})


async def test_upsert_accepts_the_documented_codes(http: httpx.AsyncClient) -> None:
    customer = {"external_id": "n", "currency": "ANG", "timezone": "GMT+12"}
    response = await http.post("/customers", json={"customer": customer})
    assert response.status_code == 200
    assert response.json()["customer"]["applicable_timezone"] == "GMT+12"


async def test_the_routes_use_the_store_on_app_state(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    store = store_of(app, CustomerStore)
    assert list(store.customers) == ["seeded"]
    await http.post("/customers", json={"customer": {"external_id": "new"}})
    assert store.get("new").render() == (await http.get("/customers/new")).json()["customer"]
