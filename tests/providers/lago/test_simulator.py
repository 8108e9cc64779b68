"""The Lago simulator over loopback, driven by the official ``lago_python_client`` (1.55.0).

Every answer the SDK receives is also checked against Lago's OpenAPI document (the shared
``lago-openapi.yaml``; ``LAGO_OPENAPI`` overrides the path), so the simulator's objects, list
meta and error bodies stay what the real API documents.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from lago_python_client import Client
from lago_python_client.exceptions import LagoApiError, LagoRateLimitError
from lago_python_client.models import Customer
from lago_python_client.models.customer import (
    CustomerBillingConfiguration,
    Metadata,
    MetadataList,
)
from lago_python_client.services import response as sdk_response
from starlette.types import ASGIApp

from gateway.providers.lago.simulator import create_app
from gateway.sandbox.base import SimulatorState, simulator_state
from tests.providers.lago.conftest import OpenAPI

KEY = "lago_sandbox_test_key"

SEEDS: list[dict[str, Any]] = [
    {
        "external_id": "acme-1",
        "name": "Gavin Belson",
        "email": "gavin@hooli.test",
        "country": "US",
        "currency": "USD",
        "created_at": "2024-01-05T10:00:00Z",
    },
    {
        "external_id": "acme-2",
        "firstname": "Dinesh",
        "lastname": "Chugtai",
        "email": "dinesh@piedpiper.test",
        "country": "FR",
        "currency": "EUR",
        "created_at": "2024-01-04T10:00:00Z",
    },
    {
        "external_id": "acme-3",
        "name": "Richard",
        "legal_name": "Pied Piper Inc",
        "country": "US",
        "currency": "EUR",
        "created_at": "2024-01-03T10:00:00Z",
    },
    {
        "external_id": "piper-4",
        "name": "Monica",
        "country": "GB",
        "currency": "GBP",
        "created_at": "2024-01-02T10:00:00Z",
    },
    {
        "external_id": "piper-5",
        "name": "Jared",
        "email": "jared@PIEDPIPER.test",
        "created_at": "2024-01-01T10:00:00Z",
    },
]


@dataclass
class Seen:
    method: str
    path: str
    status: int
    body: Any
    headers: httpx.Headers


@dataclass
class Sandbox:
    app: Any
    url: str
    seen: list[Seen] = field(default_factory=list)

    def client(self, *, key: str = KEY, retries: int = 0) -> Client:
        return Client(api_key=key, api_url=self.url, max_retries=retries)

    def raw(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {KEY}"})

    def last(self) -> Seen:
        return self.seen[-1]


@pytest.fixture
def sandbox(
    live_server: Callable[[ASGIApp], str], openapi: OpenAPI, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Sandbox]:
    """A seeded simulator on loopback; every answer the SDK reads is recorded and validated."""
    app = create_app(SEEDS, api_key=KEY)
    box = Sandbox(app=app, url=live_server(app))
    original = sdk_response.verify_response

    def verify(response: httpx.Response) -> httpx.Response | None:
        body = json.loads(response.content) if response.content else None
        seen = Seen(
            response.request.method,
            response.request.url.raw_path.decode().partition("?")[0],
            response.status_code,
            body,
            response.headers,
        )
        box.seen.append(seen)
        if response.status_code != 429:  # the document lists no 429 answer
            openapi.validate(seen.method, seen.path, seen.status, body)
        return original(response)

    monkeypatch.setattr(sdk_response, "verify_response", verify)
    yield box


# --- customers: create (upsert) ----------------------------------------------------------------


def test_create_then_create_again_updates_the_same_customer(sandbox: Sandbox) -> None:
    client = sandbox.client()
    first = client.customers.create(
        Customer(external_id="new-1", name="Gavin", country="us", currency="USD")
    )
    assert first is not None
    assert first.country == "US"  # Lago upper-cases countries
    assert first.applicable_timezone == "UTC"
    again = client.customers.create(Customer(external_id="new-1", name="Gavin Belson"))
    assert again is not None
    assert again.lago_id == first.lago_id
    assert again.created_at == first.created_at
    assert again.updated_at >= first.updated_at
    assert (again.name, again.country, again.currency) == ("Gavin Belson", "US", "USD")
    assert [s.status for s in sandbox.seen] == [200, 200]
    listed = client.customers.find_all({"search_term": "new-1"})
    assert [c.lago_id for c in listed["customers"]] == [first.lago_id]


def test_update_bumps_updated_at_and_keeps_created_at(sandbox: Sandbox) -> None:
    client = sandbox.client()
    before = client.customers.find("acme-1")
    after = client.customers.create(Customer(external_id="acme-1", phone="+1 555 0100"))
    assert after is not None
    assert after.created_at == before.created_at == "2024-01-05T10:00:00Z"
    assert after.updated_at > before.updated_at
    assert (after.phone, after.name, after.email) == ("+1 555 0100", "Gavin Belson", before.email)


def test_objects_carry_every_documented_field(sandbox: Sandbox) -> None:
    sandbox.client().customers.create(Customer(external_id="full", email="a@b.test"))
    body = sandbox.last().body["customer"]
    required = {"lago_id", "sequential_id", "slug", "external_id", "applicable_timezone"}
    assert required | {"created_at", "updated_at"} <= set(body)
    for nullable in ("name", "firstname", "lastname", "currency", "country", "phone", "timezone"):
        assert body[nullable] is None
    assert body["sequential_id"] == len(SEEDS) + 1
    assert body["slug"].endswith(f"-{len(SEEDS) + 1:03d}")
    assert body["metadata"] == [] and body["taxes"] == []
    assert set(body["shipping_address"]) == {
        "address_line1",
        "address_line2",
        "city",
        "zipcode",
        "state",
        "country",
    }


def test_billing_configuration_links_a_stripe_customer(sandbox: Sandbox) -> None:
    created = sandbox.client().customers.create(
        Customer(
            external_id="billed",
            name="Billed",
            billing_configuration=CustomerBillingConfiguration(
                payment_provider="stripe", provider_customer_id="cus_ABC123", sync=False
            ),
        )
    )
    assert created is not None and created.billing_configuration is not None
    assert created.billing_configuration.payment_provider == "stripe"
    assert created.billing_configuration.provider_customer_id == "cus_ABC123"
    unlinked = sandbox.client().customers.create(
        Customer(
            external_id="billed",
            billing_configuration=CustomerBillingConfiguration(payment_provider=None),
        )
    )
    # The SDK drops None values (nothing changes), so clearing needs a raw null: sent with httpx.
    assert unlinked is not None and unlinked.billing_configuration is not None
    assert unlinked.billing_configuration.provider_customer_id == "cus_ABC123"
    with sandbox.raw() as raw:
        cleared = raw.post(
            "/api/v1/customers",
            json={
                "customer": {
                    "external_id": "billed",
                    "billing_configuration": {"payment_provider": None},
                }
            },
        )
    assert cleared.status_code == 200
    billing = cleared.json()["customer"]["billing_configuration"]
    assert "payment_provider" not in billing and "provider_customer_id" not in billing


def test_metadata_follows_lago_update_rules(sandbox: Sandbox) -> None:
    client = sandbox.client()

    def meta(*items: Metadata) -> MetadataList:
        return MetadataList(__root__=list(items))

    created = client.customers.create(
        Customer(
            external_id="meta",
            metadata=meta(Metadata(key="plan", value="gold", display_in_invoice=True)),
        )
    )
    assert created is not None and created.metadata is not None
    (plan,) = created.metadata.__root__
    assert (plan.key, plan.value, plan.display_in_invoice) == ("plan", "gold", True)
    # An entry named by id is updated in place; entries not named are removed.
    updated = client.customers.create(
        Customer(
            external_id="meta",
            metadata=meta(
                Metadata(id=plan.lago_id, key="plan", value="platinum"),
                Metadata(key="seats", value="12", display_in_invoice=False),
            ),
        )
    )
    assert updated is not None and updated.metadata is not None
    by_key = {m.key: m for m in updated.metadata.__root__}
    assert by_key["plan"].lago_id == plan.lago_id and by_key["plan"].value == "platinum"
    assert by_key["seats"].value == "12"
    # A new entry whose key is still taken is refused, and nothing changes.
    with pytest.raises(LagoApiError) as taken:
        client.customers.create(
            Customer(external_id="meta", metadata=meta(Metadata(key="plan", value="x")))
        )
    assert taken.value.status_code == 422
    assert taken.value.response["error_details"] == {"key": ["value_already_exist"]}
    assert {m.key for m in client.customers.find("meta").metadata.__root__} == {"plan", "seats"}
    too_many = meta(*(Metadata(key=f"k{i}", value="v") for i in range(6)))
    with pytest.raises(LagoApiError) as count:
        client.customers.create(Customer(external_id="meta", metadata=too_many))
    assert count.value.response["error_details"] == {"metadata": ["invalid_count"]}
    cleared = client.customers.create(Customer(external_id="meta", metadata=meta()))
    assert cleared is not None and cleared.metadata is not None
    assert cleared.metadata.__root__ == []


# --- find / find_all / destroy ------------------------------------------------------------------


def test_find_accepts_ids_with_spaces_and_slashes(sandbox: Sandbox) -> None:
    client = sandbox.client()
    client.customers.create(Customer(external_id="team 7/eu", name="Slashy"))
    found = client.customers.find("team 7/eu")  # the SDK sends the slash unescaped
    assert found.external_id == "team 7/eu" and found.name == "Slashy"
    assert sandbox.last().path == "/api/v1/customers/team%207/eu"


def test_find_all_pages_newest_first(sandbox: Sandbox) -> None:
    client = sandbox.client()
    ids: list[str] = []
    metas: list[dict[str, Any]] = []
    for page in (1, 2, 3):
        result = client.customers.find_all({"per_page": 2, "page": page})
        ids += [c.external_id for c in result["customers"]]
        metas.append(result["meta"])
    assert ids == ["acme-1", "acme-2", "acme-3", "piper-4", "piper-5"]
    assert metas == [
        {"current_page": 1, "next_page": 2, "prev_page": None, "total_pages": 3, "total_count": 5},
        {"current_page": 2, "next_page": 3, "prev_page": 1, "total_pages": 3, "total_count": 5},
        {"current_page": 3, "next_page": None, "prev_page": 2, "total_pages": 3, "total_count": 5},
    ]
    beyond = client.customers.find_all({"per_page": 2, "page": 9})
    assert beyond["customers"] == []
    assert beyond["meta"]["total_count"] == 5 and beyond["meta"]["next_page"] is None
    every = client.customers.find_all()
    assert len(every["customers"]) == 5 and every["meta"]["total_pages"] == 1


def test_find_all_with_no_results_reports_page_zero(sandbox: Sandbox) -> None:
    result = sandbox.client().customers.find_all({"search_term": "nobody-at-all"})
    assert result["customers"] == []
    assert result["meta"] == {
        "current_page": 0,
        "next_page": None,
        "prev_page": None,
        "total_pages": 0,
        "total_count": 0,
    }


FILTER_CASES: list[tuple[dict[str, Any], list[str]]] = [
    ({"search_term": "GAVIN"}, ["acme-1"]),  # name, any case
    ({"search_term": "chug"}, ["acme-2"]),  # lastname
    ({"search_term": "dines"}, ["acme-2"]),  # firstname and email
    ({"search_term": "pied piper"}, ["acme-3"]),  # legal name
    ({"search_term": "piedpiper.test"}, ["acme-2", "piper-5"]),  # email, any case
    ({"search_term": "piper-"}, ["piper-4", "piper-5"]),  # external id
    ({"countries[]": ["FR", "GB"]}, ["acme-2", "piper-4"]),
    ({"currencies[]": ["EUR"]}, ["acme-2", "acme-3"]),
    ({"search_term": "acme", "currencies[]": ["USD"]}, ["acme-1"]),
]


def test_find_all_filters(sandbox: Sandbox) -> None:
    """One server for every case; each case names what it exercises."""
    client = sandbox.client()
    for options, expected in FILTER_CASES:
        result = client.customers.find_all(options)
        assert [c.external_id for c in result["customers"]] == expected, options
        assert result["meta"]["total_count"] == len(expected), options


def test_destroy_returns_the_customer_then_it_is_gone(sandbox: Sandbox) -> None:
    client = sandbox.client()
    before = client.customers.find("acme-3")
    deleted = client.customers.destroy("acme-3")
    assert getattr(deleted, "lago_id", None) == before.lago_id
    with pytest.raises(LagoApiError) as missing:
        client.customers.find("acme-3")
    assert missing.value.status_code == 404
    with pytest.raises(LagoApiError) as again:
        client.customers.destroy("acme-3")
    assert again.value.status_code == 404
    assert client.customers.find_all()["meta"]["total_count"] == len(SEEDS) - 1
    recreated = client.customers.create(Customer(external_id="acme-3", name="Richard"))
    assert recreated is not None and recreated.lago_id != before.lago_id


# --- errors ---------------------------------------------------------------------------------


def test_wrong_or_missing_key_is_401(sandbox: Sandbox) -> None:
    with pytest.raises(LagoApiError) as wrong:
        sandbox.client(key="not-the-key").customers.find("acme-1")
    assert wrong.value.status_code == 401
    assert wrong.value.response == {"status": 401, "error": "Unauthorized"}
    with httpx.Client(base_url=sandbox.url) as anonymous:
        missing = anonymous.get("/api/v1/customers")
    assert missing.status_code == 401
    assert missing.json() == {"status": 401, "error": "Unauthorized"}
    with httpx.Client(base_url=sandbox.url, auth=("lago_sandbox_test_key", "")) as basic:
        assert basic.get("/api/v1/customers").status_code == 401  # Bearer only


def test_unknown_customer_is_404_customer_not_found(sandbox: Sandbox) -> None:
    with pytest.raises(LagoApiError) as caught:
        sandbox.client().customers.find("no-such-customer")
    assert caught.value.status_code == 404
    assert caught.value.response == {
        "status": 404,
        "error": "Not Found",
        "code": "customer_not_found",
    }


INVALID_CASES: list[tuple[Customer, dict[str, list[str]]]] = [
    (Customer(external_id=""), {"external_id": ["value_is_mandatory"]}),
    (Customer(external_id="x", country="ZZ"), {"country": ["country_code_invalid"]}),
    (Customer(external_id="x", currency="usd"), {"currency": ["value_is_invalid"]}),
    (Customer(external_id="x", email="not-an-email"), {"email": ["invalid_email_format"]}),
    (Customer(external_id="x", timezone="Mars/Base"), {"timezone": ["invalid_timezone"]}),
    (
        Customer(external_id=" ", country="ZZ", currency="XXX1"),
        {
            "external_id": ["value_is_mandatory"],
            "country": ["country_code_invalid"],
            "currency": ["value_is_invalid"],
        },
    ),
]


def test_invalid_customers_are_422_and_change_nothing(sandbox: Sandbox) -> None:
    client = sandbox.client()
    for customer, details in INVALID_CASES:
        with pytest.raises(LagoApiError) as caught:
            client.customers.create(customer)
        assert caught.value.status_code == 422
        assert caught.value.response == {
            "status": 422,
            "error": "Unprocessable Entity",
            "code": "validation_errors",
            "error_details": details,
            "error_extra": {},
        }
    assert client.customers.find_all()["meta"]["total_count"] == len(SEEDS)


def test_body_without_the_customer_root_is_400(sandbox: Sandbox, openapi: OpenAPI) -> None:
    with sandbox.raw() as raw:
        answers = [
            raw.post("/api/v1/customers", json={"external_id": "x"}),
            raw.post("/api/v1/customers", json={"customer": {}}),
            raw.post(
                "/api/v1/customers",
                content=b"{not json",
                headers={"Content-Type": "application/json"},
            ),
        ]
    for answer in answers:
        assert answer.status_code == 400
        openapi.validate("POST", "/api/v1/customers", 400, answer.json())
    assert answers[0].json() == {
        "status": 400,
        "error": "BadRequest: param is missing or the value is empty: customer",
    }


# --- rate limits ----------------------------------------------------------------------------


def _statuses(state: SimulatorState, count: int) -> list[int]:
    """The logged statuses; the simulator logs a request before its answer goes out."""
    assert len(state.log) == count
    return [entry.status for entry in state.log]


def test_every_answer_carries_rate_limit_headers(sandbox: Sandbox) -> None:
    client = sandbox.client()
    client.customers.find("acme-1")
    with pytest.raises(LagoApiError):
        client.customers.find("missing")
    with pytest.raises(LagoApiError):
        sandbox.client(key="bad").customers.find("acme-1")
    for seen in sandbox.seen:
        assert seen.headers["x-ratelimit-limit"] == "50"
        assert 0 <= int(seen.headers["x-ratelimit-remaining"]) < 50
        assert int(seen.headers["x-ratelimit-reset"]) in (0, 1)


def test_injected_429_carries_lago_headers_and_the_sdk_retries(sandbox: Sandbox) -> None:
    state = simulator_state(sandbox.app)
    state.faults.retry_after = 0  # X-RateLimit-Reset: 0, so the SDK retries at once
    state.faults.next_statuses = [429]
    with sandbox.raw() as raw:
        limited = raw.get("/api/v1/customers/acme-1")
    assert limited.status_code == 429
    assert limited.json() == {"status": 429, "error": "Too Many Requests"}
    assert limited.headers["x-ratelimit-limit"] == "50"
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert limited.headers["x-ratelimit-reset"] == "0"
    assert "retry-after" not in limited.headers  # Lago signals the wait only by the reset
    assert _statuses(state, 1) == [429]
    state.log.clear()
    state.faults.next_statuses = [429]
    found = sandbox.client(retries=1).customers.find("acme-1")
    assert found.external_id == "acme-1"
    assert _statuses(state, 2) == [429, 200]


def test_429_without_retries_raises_lago_rate_limit_error(sandbox: Sandbox) -> None:
    state = simulator_state(sandbox.app)
    state.faults.retry_after = 7
    state.faults.next_statuses = [429]
    with pytest.raises(LagoRateLimitError) as caught:
        sandbox.client(retries=0).customers.find_all()
    assert caught.value.status_code == 429
    assert (caught.value.limit, caught.value.remaining, caught.value.reset) == (50, 0, 7)
    assert _statuses(state, 1) == [429]
