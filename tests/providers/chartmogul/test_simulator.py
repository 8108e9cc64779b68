"""The ChartMogul simulator against the official ``chartmogul`` SDK (4.11.0) over loopback."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import chartmogul
import httpx
import pytest
from starlette.types import ASGIApp

from gateway.providers.chartmogul.simulator import DEFAULT_DATA_SOURCE_UUID, create_app

STRIPE_DS = "ds_fef05d54-47b4-431b-aed2-eb6b9e545430"
SEEDED_UUID = "cus_de305d54-75b4-431b-adb2-eb6b9e546012"
# Every key of the customer object in the API document (seeds/001), hyphens included.
DOCUMENTED_KEYS = {
    "id",
    "uuid",
    "external_id",
    "external_ids",
    "data_source_uuid",
    "data_source_uuids",
    "name",
    "email",
    "company",
    "status",
    "lead_created_at",
    "free_trial_started_at",
    "customer-since",
    "zip",
    "city",
    "state",
    "country",
    "address",
    "attributes",
    "mrr",
    "arr",
    "billing-system-type",
    "billing-system-url",
    "chartmogul-url",
    "currency",
    "currency-sign",
    "owner",
    "website_url",
}

STRIPE_CUSTOMER = {
    "id": 25647,
    "uuid": SEEDED_UUID,
    "external_id": "cus_4Z2ZpyJFuQ0XMb",
    "data_source_uuid": STRIPE_DS,
    "name": "Example Company",
    "email": "Ada@Example.com",
    "customer-since": "2023-06-09T13:16:00-04:00",
    "zip": "0185128",
    "city": "Nowhereville",
    "state": "AK",
    "country": "US",
    "mrr": 3000,
    "billing-system-type": "Stripe",
    "attributes": {"tags": ["engage"], "custom": {"CAC": 213}, "stripe": {"uid": 7}},
}


def imported(n: int, **extra: Any) -> dict[str, Any]:
    return {"external_id": f"imp_{n}", "name": f"Imported {n}", **extra}


@pytest.fixture
def serve(live_server: Callable[[ASGIApp], str]) -> Callable[..., chartmogul.Config]:
    """Starts a seeded simulator and returns an SDK config pointing at it."""

    def start(records: list[dict[str, Any]], key: str = "sandbox") -> chartmogul.Config:
        url = live_server(create_app(records))
        config = chartmogul.Config(key)
        config.uri = url + "/v1"
        return config

    return start


@pytest.fixture
def sdk(serve: Callable[..., chartmogul.Config]) -> chartmogul.Config:
    return serve([STRIPE_CUSTOMER, *(imported(n) for n in range(1, 5))])


@pytest.fixture
def raw(sdk: chartmogul.Config) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sdk.uri, auth=("sandbox", "")) as client:
        yield client


def test_create_then_retrieve_parses_every_field(sdk: chartmogul.Config) -> None:
    created = chartmogul.Customer.create(
        sdk,
        data={
            "data_source_uuid": DEFAULT_DATA_SOURCE_UUID,
            "external_id": "ext-77",
            "name": "Grace Hopper",
            "email": "grace@navy.mil",
            "company": "Navy",
            "country": "US",
            "state": "CA",
            "city": "Arlington",
            "zip": "22201",
            "lead_created_at": "2015-01-01T10:00:00-04:00",
            "attributes": {
                "tags": ["vip"],
                "custom": [{"type": "Integer", "key": "CAC", "value": 213, "source": "api"}],
            },
        },
    ).get()
    fetched = chartmogul.Customer.retrieve(sdk, uuid=created.uuid).get()

    assert fetched.uuid == created.uuid and fetched.uuid.startswith("cus_")
    assert (fetched.name, fetched.email, fetched.company) == (
        "Grace Hopper",
        "grace@navy.mil",
        "Navy",
    )
    assert fetched.external_ids == ["ext-77"]
    assert fetched.data_source_uuids == [DEFAULT_DATA_SOURCE_UUID]
    assert fetched.status == "New Lead" and fetched.customer_since is None
    assert fetched.billing_system_type == "Import API"
    assert fetched.currency == "USD" and fetched.currency_sign == "$"
    assert (fetched.mrr, fetched.arr) == (0, 0)
    assert fetched.attributes.custom == {"CAC": 213}  # a list in the request, a map back
    assert fetched.attributes.tags == ["vip"]
    assert fetched.address.country == "United States" and fetched.address.state == "California"
    assert fetched.chartmogul_url.endswith(f"/customers/{fetched.id}-Grace_Hopper")
    assert fetched.lead_created_at.isoformat() == "2015-01-01T10:00:00-04:00"


def test_retrieve_seeded_stripe_customer(sdk: chartmogul.Config) -> None:
    customer = chartmogul.Customer.retrieve(sdk, uuid=SEEDED_UUID).get()
    assert customer.id == 25647
    assert customer.customer_since.isoformat() == "2023-06-09T13:16:00-04:00"
    assert (customer.mrr, customer.arr) == (3000, 36000)
    assert customer.billing_system_type == "Stripe"
    assert (
        customer.billing_system_url == "https://dashboard.stripe.com/customers/cus_4Z2ZpyJFuQ0XMb"
    )
    assert customer.attributes.stripe == {"uid": 7}


def test_all_follows_the_cursor_to_the_end(sdk: chartmogul.Config) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, Any] = {"per_page": 2} | ({"cursor": cursor} if cursor else {})
        page = chartmogul.Customer.all(sdk, **params).get()
        seen.extend(c.external_id for c in page.entries)
        if not page.has_more:
            break
        cursor = page.cursor
    assert seen == ["cus_4Z2ZpyJFuQ0XMb", "imp_1", "imp_2", "imp_3", "imp_4"]
    assert page.cursor is None


def test_all_filters(sdk: chartmogul.Config) -> None:
    def external_ids(**params: str) -> list[str]:
        return [c.external_id for c in chartmogul.Customer.all(sdk, **params).get().entries]

    assert external_ids(system="Stripe") == ["cus_4Z2ZpyJFuQ0XMb"]
    assert external_ids(data_source_uuid=STRIPE_DS) == ["cus_4Z2ZpyJFuQ0XMb"]
    assert external_ids(external_id="imp_3") == ["imp_3"]
    assert external_ids(status="New Lead") == ["imp_1", "imp_2", "imp_3", "imp_4"]
    assert external_ids(external_id="nobody") == []
    with pytest.raises(chartmogul.DeprecatedArgumentError):  # the SDK refuses ``page`` itself
        chartmogul.Customer.all(sdk, page=2)


def test_search_by_email_is_exact_and_case_insensitive(serve: Callable[..., Any]) -> None:
    sdk = serve([imported(n, email="Team@Acme.io") for n in range(3)] + [imported(9)])
    first = chartmogul.Customer.search(sdk, email="team@acme.io", per_page=2).get()
    assert [c.external_id for c in first.entries] == ["imp_0", "imp_1"] and first.has_more
    rest = chartmogul.Customer.search(
        sdk, email="team@acme.io", per_page=2, cursor=first.cursor
    ).get()
    assert [c.external_id for c in rest.entries] == ["imp_2"] and not rest.has_more
    with pytest.raises(chartmogul.APIError, match="find any customers with email"):
        chartmogul.Customer.search(sdk, email="team@acme").get()


def test_modify_and_update_change_fields(sdk: chartmogul.Config) -> None:
    modified = chartmogul.Customer.modify(
        sdk,
        uuid=SEEDED_UUID,
        data={"name": "Renamed", "country": "DE", "attributes": {"custom": {"pro": True}}},
    ).get()
    assert modified.name == "Renamed" and modified.country == "DE"
    assert modified.address.country == "Germany"
    assert modified.attributes.custom == {"CAC": 213, "pro": True}
    updated = chartmogul.Customer.update(sdk, uuid=SEEDED_UUID, data={"company": "Acme"}).get()
    assert updated.company == "Acme" and updated.name == "Renamed"
    assert chartmogul.Customer.retrieve(sdk, uuid=SEEDED_UUID).get().company == "Acme"


def test_destroy_only_import_api_customers(sdk: chartmogul.Config) -> None:
    target = chartmogul.Customer.all(sdk, external_id="imp_2").get().entries[0]
    assert chartmogul.Customer.destroy(sdk, uuid=target.uuid).get() is None
    with pytest.raises(chartmogul.APIError, match="Customer not found"):
        chartmogul.Customer.retrieve(sdk, uuid=target.uuid).get()
    with pytest.raises(chartmogul.APIError, match="only customers imported through the Import"):
        chartmogul.Customer.destroy(sdk, uuid=SEEDED_UUID).get()


def test_merge_folds_from_into(sdk: chartmogul.Config) -> None:
    source = chartmogul.Customer.all(sdk, external_id="imp_1").get().entries[0]
    result = chartmogul.Customer.merge(
        sdk,
        data={
            "from": {"data_source_uuid": DEFAULT_DATA_SOURCE_UUID, "external_id": "imp_1"},
            "into": {"customer_uuid": SEEDED_UUID},
        },
    ).get()
    assert result is None
    merged = chartmogul.Customer.retrieve(sdk, uuid=SEEDED_UUID).get()
    assert merged.external_ids == ["cus_4Z2ZpyJFuQ0XMb", "imp_1"]
    assert merged.data_source_uuids == [STRIPE_DS, DEFAULT_DATA_SOURCE_UUID]
    # the merged record is found by either external id, and the source is gone
    assert [c.uuid for c in chartmogul.Customer.all(sdk, external_id="imp_1").get().entries] == [
        SEEDED_UUID
    ]
    with pytest.raises(chartmogul.APIError, match="Customer not found"):
        chartmogul.Customer.retrieve(sdk, uuid=source.uuid).get()


def test_sdk_error_paths(sdk: chartmogul.Config, serve: Callable[..., Any]) -> None:
    required = {"data_source_uuid": DEFAULT_DATA_SOURCE_UUID, "external_id": "imp_1", "name": "x"}
    with pytest.raises(chartmogul.APIError, match="already exists in our system"):
        chartmogul.Customer.create(sdk, data=required).get()
    with pytest.raises(chartmogul.APIError, match="Data source not found"):
        chartmogul.Customer.create(
            sdk,
            data={**required, "data_source_uuid": "ds_" + "0" * 8 + "-0000-0000-0000-" + "0" * 12},
        ).get()
    with pytest.raises(chartmogul.APIError, match=r"name.*be blank"):
        chartmogul.Customer.create(sdk, data={"external_id": "e"}).get()
    wrong_key = chartmogul.Config("wrong")
    wrong_key.uri = sdk.uri
    with pytest.raises(chartmogul.APIError, match="No valid API key provided"):
        chartmogul.Customer.retrieve(wrong_key, uuid=SEEDED_UUID).get()


def test_data_sources_include_default_and_seeded(sdk: chartmogul.Config) -> None:
    sources = {d.uuid: d.system for d in chartmogul.DataSource.all(sdk).get().data_sources}
    assert sources == {DEFAULT_DATA_SOURCE_UUID: "Import API", STRIPE_DS: "Stripe"}


def test_raw_statuses_and_hyphenated_keys(raw: httpx.Client) -> None:
    created = raw.post(
        "/customers",
        json={"data_source_uuid": DEFAULT_DATA_SOURCE_UUID, "external_id": "r1", "name": "Raw"},
    )
    assert created.status_code == 201
    body = created.json()
    assert set(body) == DOCUMENTED_KEYS
    assert set(body["attributes"]) == {"tags", "custom", "stripe", "clearbit"}
    assert set(body["address"]) == {"address_zip", "city", "state", "country"}

    listing = raw.get("/customers", params={"per_page": 1}).json()
    assert set(listing) == {
        "entries",
        "has_more",
        "cursor",
        "per_page",
        "page",
        "current_page",
        "total_pages",
    }
    assert (listing["per_page"], listing["total_pages"], listing["has_more"]) == (1, 6, True)

    merge = raw.post(
        "/customers/merges",
        json={"from": {"customer_uuid": body["uuid"]}, "into": {"customer_uuid": SEEDED_UUID}},
    )
    assert (merge.status_code, merge.json()) == (202, {})
    target = raw.get("/customers", params={"external_id": "imp_4"}).json()["entries"][0]
    deleted = raw.delete(f"/customers/{target['uuid']}")
    assert (deleted.status_code, deleted.content) == (204, b"")


@pytest.mark.parametrize(
    ("params", "message", "param"),
    [
        ({"page": 2}, 'Parameter "page" is deprecated', "page"),
        ({"per_page": 201}, 'Parameter "per_page" must be between 1 and 200', "per_page"),
        ({"per_page": "x"}, 'Parameter "per_page" must be between 1 and 200', "per_page"),
        ({"cursor": "not-a-cursor"}, 'Parameter "cursor" is invalid', "cursor"),
    ],
)
def test_raw_bad_list_parameters(
    raw: httpx.Client, params: dict[str, Any], message: str, param: str
) -> None:
    response = raw.get("/customers", params=params)
    assert response.status_code == 400
    assert response.json() == {"code": 400, "message": message, "param": param}


def test_raw_not_found_and_validation_shapes(raw: httpx.Client) -> None:
    missing = raw.get("/customers/cus_00000000-0000-4000-8000-000000000000")
    assert (missing.status_code, missing.json()) == (
        404,
        {"code": 404, "message": "Customer not found"},
    )
    search = raw.get("/customers/search", params={"email": "no@email.com"})
    assert search.status_code == 404
    assert search.json() == {
        "code": 404,
        "message": 'Can\'t find any customers with email: "no@email.com"',
        "param": "email",
    }
    invalid = raw.post("/customers", json={"data_source_uuid": DEFAULT_DATA_SOURCE_UUID})
    assert (invalid.status_code, invalid.json()) == (
        422,
        {"errors": {"external_id": "can't be blank", "name": "can't be blank"}},
    )
    not_json = raw.post("/customers", content=b"{", headers={"content-type": "application/json"})
    assert not_json.status_code == 400


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        ("Basic " + base64.b64encode(b"sandbox:").decode(), 200),
        ("Basic " + base64.b64encode(b"sandbox:sandbox").decode(), 200),
        ("Basic " + base64.b64encode(b"sandbox:other").decode(), 401),
        ("Basic " + base64.b64encode(b"wrong:").decode(), 401),
        ("Bearer sandbox", 401),
        (None, 401),
    ],
)
def test_raw_basic_auth(sdk: chartmogul.Config, authorization: str | None, status: int) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.get(sdk.uri + "/customers", headers=headers)
    assert response.status_code == status
    if status == 401:
        assert response.json() == {"code": 401, "message": "No valid API key provided"}
