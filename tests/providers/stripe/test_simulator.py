"""The Stripe simulator, proven with the official stripe-python SDK over loopback plus raw HTTP."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import stripe
from starlette.applications import Starlette
from starlette.types import ASGIApp

from gateway.providers.stripe.simulator import create_app, parse_query, seed_record
from gateway.providers.stripe_like.simulator import ApiError, customer_api
from gateway.sandbox.base import simulator_state
from tests.conftest import shared_reference

KEY = "sk_test_sandbox"
BASE_CREATED = 1_700_000_000


def customers(count: int) -> list[dict[str, Any]]:
    """Seed customers, ``cus_seed00`` oldest; two share one created second (tiebreak)."""
    out = []
    for i in range(count):
        out.append(
            {
                "id": f"cus_seed{i:02d}",
                "email": f"user{i:02d}@example.com",
                "name": f"User {i:02d}",
                "created": BASE_CREATED + i * 10 - (10 if i == count - 1 else 0),
                "metadata": {"company_id": f"co_{i:02d}", "tier": "gold" if i % 3 == 0 else "std"},
            }
        )
    return out


@pytest.fixture
def app() -> Starlette:
    return create_app(customers(25))


@pytest.fixture
def url(app: Starlette, live_server: Callable[[ASGIApp], str]) -> str:
    return live_server(app)


@pytest.fixture
def client(url: str) -> stripe.StripeClient:
    return stripe.StripeClient(KEY, base_addresses={"api": url}, max_network_retries=0)


@pytest.fixture
def http(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, auth=(KEY, "")) as session:
        yield session


def test_customer_lifecycle_through_the_sdk(client: stripe.StripeClient) -> None:
    created = client.v1.customers.create(
        params={
            "email": "ada@example.com",
            "name": "Ada Lovelace",
            "phone": "+44 20 7946 0000",
            "address": {"line1": "12 St James's Sq", "city": "London", "country": "GB"},
            "metadata": {"company_id": "co_ada", "plan": "pro"},
        }
    )
    assert created.id.startswith("cus_") and len(created.id) == 18
    assert created.id[4:].isalnum()
    assert created.email == "ada@example.com"
    assert created.address is not None and created.address.city == "London"
    assert created.address.state is None
    assert created.metadata.to_dict() == {"company_id": "co_ada", "plan": "pro"}
    assert created.livemode is False and created.tax_exempt == "none"

    fetched = client.v1.customers.retrieve(created.id)
    assert fetched.to_dict() == created.to_dict()

    updated = client.v1.customers.update(
        created.id, params={"name": "Ada King", "metadata": {"plan": "", "seats": "3"}}
    )
    assert updated.name == "Ada King"
    assert updated.email == "ada@example.com"  # not sent, unchanged
    assert updated.metadata.to_dict() == {"company_id": "co_ada", "seats": "3"}
    emptied = client.v1.customers.update(created.id, params={"metadata": "", "phone": ""})
    assert emptied.metadata.to_dict() == {}
    assert emptied.phone is None

    deleted = client.v1.customers.delete(created.id)
    assert deleted.to_dict() == {"id": created.id, "object": "customer", "deleted": True}
    gone = client.v1.customers.retrieve(created.id)
    assert gone.deleted is True
    assert gone.to_dict() == {"id": created.id, "object": "customer", "deleted": True}
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.update(created.id, params={"name": "x"})
    assert info.value.http_status == 404 and info.value.code == "resource_missing"


def test_customer_object_has_every_documented_field(client: stripe.StripeClient) -> None:
    fixture = json.loads(shared_reference("stripe-customer-fixtures.json").read_text())
    created = client.v1.customers.create(params={"email": "shape@example.com"}).to_dict()
    assert set(created) == set(fixture["customer"])
    assert created["invoice_settings"] == {
        "custom_fields": None,
        "default_payment_method": None,
        "footer": None,
        "rendering_options": None,
    }
    assert (created["balance"], created["currency"], created["next_invoice_sequence"]) == (
        0,
        None,
        1,
    )
    assert set(seed_record({"id": "cus_min"})) == set(fixture["customer"])
    assert seed_record(fixture["deleted_customer"]) == fixture["deleted_customer"]


def test_missing_customer_is_a_resource_missing_404(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.retrieve("cus_missing")
    error = info.value
    assert error.http_status == 404
    assert error.code == "resource_missing"
    assert error.param == "id"
    assert error.user_message == "No such customer: 'cus_missing'"
    assert error.json_body is not None
    assert error.json_body["error"]["doc_url"] == (
        "https://stripe.com/docs/error-codes/resource-missing"
    )


def test_bad_and_missing_keys_are_401_without_echoing_the_key(url: str) -> None:
    wrong = "sk_test_wrongkey0123456789abcd"
    bad = stripe.StripeClient(wrong, base_addresses={"api": url}, max_network_retries=0)
    with pytest.raises(stripe.AuthenticationError) as info:
        bad.v1.customers.list()
    message = str(info.value.user_message)
    assert message.startswith("Invalid API Key provided: sk_test_")
    assert message.endswith("abcd") and wrong not in message
    with httpx.Client(base_url=url) as anonymous:
        response = anonymous.get("/v1/customers")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("You did not provide an API key")
    # No code, param or doc_url applies: they are left out, not sent as null.
    assert set(error) == {"type", "message"}
    assert response.headers["request-id"].startswith("req_")


def test_basic_and_bearer_auth_both_work(url: str) -> None:
    with httpx.Client(base_url=url) as session:
        basic = session.get("/v1/customers", auth=(KEY, ""))
        bearer = session.get("/v1/customers", headers={"Authorization": f"Bearer {KEY}"})
    assert basic.status_code == bearer.status_code == 200


def test_list_auto_pagination_is_newest_first(client: stripe.StripeClient, app: Starlette) -> None:
    simulator_state(app).log.clear()
    ids = [c.id for c in client.v1.customers.list(params={"limit": 10}).auto_paging_iter()]
    # cus_seed24 shares cus_seed23's second and was added later, so it comes first.
    expected = ["cus_seed24", *[f"cus_seed{i:02d}" for i in range(23, -1, -1)]]
    assert ids == expected
    log = simulator_state(app).log
    assert [entry.path for entry in log] == ["/v1/customers"] * 3
    assert parse_qs(log[-1].query)["starting_after"] == ["cus_seed05"]
    assert log[0].headers["stripe-version"] == stripe.api_version


def test_list_filters_and_cursors(client: stripe.StripeClient, http: httpx.Client) -> None:
    by_email = client.v1.customers.list(params={"email": "user03@example.com"})
    assert [c.id for c in by_email.data] == ["cus_seed03"]
    # Stripe's list filter is case-sensitive.
    assert client.v1.customers.list(params={"email": "USER03@example.com"}).data == []
    window = client.v1.customers.list(
        params={"created": {"gte": BASE_CREATED + 30, "lt": BASE_CREATED + 60}}
    )
    assert [c.id for c in window.data] == ["cus_seed05", "cus_seed04", "cus_seed03"]
    exact = client.v1.customers.list(params={"created": BASE_CREATED + 20})
    assert [c.id for c in exact.data] == ["cus_seed02"]
    before = client.v1.customers.list(params={"ending_before": "cus_seed10", "limit": 3})
    assert [c.id for c in before.data] == ["cus_seed13", "cus_seed12", "cus_seed11"]
    assert before.has_more is True

    body = http.get("/v1/customers", params={"limit": 2}).json()
    assert set(body) == {"object", "url", "has_more", "data"}
    assert (body["object"], body["url"], body["has_more"]) == ("list", "/v1/customers", True)

    client.v1.customers.delete("cus_seed24")
    assert client.v1.customers.list(params={"limit": 1}).data[0].id == "cus_seed23"


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"starting_after": "cus_seed01", "ending_before": "cus_seed03"}, "ending_before"),
        ({"starting_after": "cus_nope"}, "starting_after"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_list_rejects_bad_parameters(
    client: stripe.StripeClient, params: dict[str, Any], param: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.list(params=params)  # type: ignore[arg-type]
    assert info.value.http_status == 400 and info.value.param == param


def test_search_language(client: stripe.StripeClient) -> None:
    def ids(query: str) -> list[str]:
        return [c.id for c in client.v1.customers.search(params={"query": query}).data]

    assert ids("email:'USER07@example.com'") == ["cus_seed07"]  # emails ignore case
    assert ids('email:"user07@example.com" OR email:"user08@example.com"') == [
        "cus_seed08",
        "cus_seed07",
    ]
    assert ids("name~'ser 1' AND created<1700000140") == [f"cus_seed{i}" for i in range(13, 9, -1)]
    assert ids("metadata['company_id']:'co_04'") == ["cus_seed04"]
    assert ids("metadata['tier']:'gold' created>=1700000150 -email:'user18@example.com'") == [
        "cus_seed24",
        "cus_seed21",
        "cus_seed15",
    ]
    assert ids("metadata['missing']:null created:1700000000") == ["cus_seed00"]
    assert ids("phone:null -name~'User 0' -name~'User 1' -name~'User 2'") == []
    client.v1.customers.update("cus_seed02", params={"name": "O'Brien \\ Co"})
    assert ids("name:'o\\'brien \\\\ co'") == ["cus_seed02"]


def test_search_pagination_follows_next_page(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    query = "metadata['tier']:'std'"
    first = client.v1.customers.search(params={"query": query, "limit": 5})
    assert first.has_more is True and first.next_page
    every = [c.id for c in first.auto_paging_iter()]
    assert len(every) == len(set(every)) == 16
    body = http.get("/v1/customers/search", params={"query": query, "limit": 100}).json()
    assert set(body) == {"object", "url", "has_more", "data", "next_page"}
    assert body["object"] == "search_result" and body["url"] == "/v1/customers/search"
    assert (body["has_more"], body["next_page"]) == (False, None)
    assert [c["id"] for c in body["data"]] == every
    foreign = http.get("/v1/customers/search", params={"query": "email:'x@y.z'", "page": "abc"})
    assert foreign.status_code == 400 and foreign.json()["error"]["param"] == "page"


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        (" OR ".join(f"email:'u{i}@example.com'" for i in range(11)), "at most 10 clauses"),
        ("email:'a@b.c' OR name:'x' AND phone:'1'", "cannot be combined"),
        ("(email:'a@b.c')", "Parentheses"),
        ("currency:'usd'", "not supported for customer search"),
        ("email:a@b.c", "must be quoted"),
        ("created>'soon'", "integer timestamp"),
        ("phone~'555'", "not supported for `phone`"),
        ("name~'ab'", "at least 3 characters"),
        ("email:'unterminated", "unterminated string"),
        ("", "Missing required param: query"),
    ],
)
def test_search_rejects_bad_queries(client: stripe.StripeClient, query: str, fragment: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.search(params={"query": query})
    assert info.value.http_status == 400 and info.value.param == "query"
    assert fragment in str(info.value.user_message)


def test_ten_clauses_are_fine() -> None:
    query = parse_query(" or ".join(f"email:'u{i}@example.com'" for i in range(10)))
    assert len(query.clauses) == 10 and query.any_of
    with pytest.raises(ApiError):
        parse_query("email:'a@b.c'name:'x'")


async def test_search_lags_writes_but_list_does_not() -> None:
    app = create_app(customers(2), search_lag_seconds=60)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://stripe", auth=(KEY, "")
    ) as session:

        async def search(query: str) -> list[str]:
            body = (await session.get("/v1/customers/search", params={"query": query})).json()
            return [c["id"] for c in body["data"]]

        created = (await session.post("/v1/customers", data={"email": "new@example.com"})).json()
        await session.post("/v1/customers/cus_seed00", data={"email": "moved@example.com"})
        listed = (await session.get("/v1/customers", params={"email": "new@example.com"})).json()
        assert [c["id"] for c in listed["data"]] == [created["id"]]
        assert await search("email:'new@example.com'") == []
        # The index still holds the old version of an updated customer.
        assert await search("email:'user00@example.com'") == ["cus_seed00"]
        assert await search("email:'moved@example.com'") == []
        customer_api(app).store.search_lag_seconds = 0
        assert await search("email:'new@example.com'") == [created["id"]]
        assert await search("email:'moved@example.com'") == ["cus_seed00"]
        assert await search("email:'user00@example.com'") == []


def test_idempotent_create_replays_and_rejects_other_params(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    params: dict[str, Any] = {"email": "once@example.com", "metadata": {"a": "1"}}
    first = client.v1.customers.create(params=params, options={"idempotency_key": "key-1"})
    again = client.v1.customers.create(params=params, options={"idempotency_key": "key-1"})
    assert again.id == first.id
    assert again.last_response is not None
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(client.v1.customers.list(params={"email": "once@example.com"}).data) == 1
    with pytest.raises(stripe.IdempotencyError) as info:
        client.v1.customers.create(
            params={"email": "twice@example.com"}, options={"idempotency_key": "key-1"}
        )
    assert "same parameters" in str(info.value.user_message)

    raw = http.post(
        "/v1/customers", data={"email": "raw@example.com"}, headers={"Idempotency-Key": "k2"}
    )
    replay = http.post(
        "/v1/customers", data={"email": "raw@example.com"}, headers={"Idempotency-Key": "k2"}
    )
    assert replay.json() == raw.json() and replay.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in raw.headers
    too_long = http.post("/v1/customers", data={}, headers={"Idempotency-Key": "k" * 256})
    assert too_long.status_code == 400
    assert too_long.json()["error"]["type"] == "invalid_request_error"
    # A validation failure is not saved: the key stays usable.
    bad = http.post("/v1/customers", data={"email": "nope"}, headers={"Idempotency-Key": "k3"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "email_invalid"
    good = http.post(
        "/v1/customers", data={"email": "ok@example.com"}, headers={"Idempotency-Key": "k3"}
    )
    assert good.status_code == 200


def test_error_shape_and_unknown_parameters(http: httpx.Client) -> None:
    response = http.post("/v1/customers", data={"colour": "blue"})
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "type": "invalid_request_error",
            "code": "parameter_unknown",
            "message": "Received unknown parameter: colour",
            "param": "colour",
            "doc_url": "https://stripe.com/docs/error-codes/parameter-unknown",
        }
    }
    nowhere = http.get("/v1/nowhere")
    assert nowhere.status_code == 404 and nowhere.json()["error"]["type"] == "invalid_request_error"
    address = http.post("/v1/customers", data={"address[planet]": "Mars"})
    assert address.json()["error"]["param"] == "address[planet]"


# -- fidelity: errors, request ids, shipping, business and individual names ----------------


def test_errors_leave_out_fields_that_do_not_apply(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    nowhere = http.get("/v1/nowhere").json()["error"]
    assert set(nowhere) == {"type", "message"}  # no code, param or doc_url: not null, absent
    with pytest.raises(stripe.IdempotencyError) as info:
        client.v1.customers.create(
            params={"email": "a@example.com"}, options={"idempotency_key": "e"}
        )
        client.v1.customers.create(
            params={"email": "b@example.com"}, options={"idempotency_key": "e"}
        )
    assert info.value.json_body is not None
    assert set(info.value.json_body["error"]) == {"type", "message"}
    assert info.value.code is None
    bad_email = http.post("/v1/customers", data={"email": "nope"}).json()["error"]
    assert set(bad_email) == {"type", "code", "message", "param", "doc_url"}


def test_every_response_carries_a_fresh_request_id(
    client: stripe.StripeClient, http: httpx.Client, url: str, app: Starlette
) -> None:
    created = client.v1.customers.create(params={"email": "rid@example.com"})
    assert created.last_response is not None
    success_id = created.last_response.request_id
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.customers.retrieve("cus_missing")
    with httpx.Client(base_url=url) as anonymous:
        unauthorized = anonymous.get("/v1/customers")
    simulator_state(app).faults.next_statuses = [429]
    limited = http.get("/v1/customers")
    ids = [
        success_id,
        missing.value.request_id,
        unauthorized.headers.get("request-id"),
        limited.headers.get("request-id"),
        http.get("/v1/nowhere").headers.get("request-id"),
        http.post("/v1/customers", data={"colour": "red"}).headers.get("request-id"),
    ]
    assert all(isinstance(i, str) and re.fullmatch(r"req_[A-Za-z0-9]{14}", i) for i in ids), ids
    assert len(set(ids)) == len(ids)
    assert limited.status_code == 429 and unauthorized.status_code == 401


def test_an_idempotent_replay_gets_a_new_request_id_and_names_the_original(
    http: httpx.Client,
) -> None:
    headers = {"Idempotency-Key": "rid-replay"}
    first = http.post("/v1/customers", data={"email": "r@example.com"}, headers=headers)
    replay = http.post("/v1/customers", data={"email": "r@example.com"}, headers=headers)
    original = first.headers["request-id"]
    assert first.headers["original-request"] == original
    assert "idempotent-replayed" not in first.headers
    assert replay.json() == first.json()
    assert replay.headers["request-id"] != original
    assert replay.headers["request-id"].startswith("req_")
    assert replay.headers["original-request"] == original
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.headers["idempotency-key"] == "rid-replay"


ALL_NULL_ADDRESS = dict.fromkeys(
    ("city", "country", "line1", "line2", "postal_code", "state"), None
)


def test_shipping_always_carries_an_address_object(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    shipped = client.v1.customers.create(
        params={"shipping": {"name": "Ada", "address": {"city": "London"}}}
    ).to_dict()
    assert shipped["shipping"] == {
        "address": ALL_NULL_ADDRESS | {"city": "London"},
        "name": "Ada",
        "phone": None,
    }
    blank = http.post(
        "/v1/customers", data={"shipping[name]": "Ada", "shipping[address][line1]": ""}
    ).json()
    assert blank["shipping"]["address"] == ALL_NULL_ADDRESS  # all-null parts, still an object
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.update(shipped["id"], params={"shipping": {"name": "Ada"}})  # type: ignore[typeddict-item]
    assert (info.value.param, info.value.code) == ("shipping[address]", "parameter_missing")
    no_name = http.post("/v1/customers", data={"shipping[address][city]": "Oslo"})
    assert no_name.json()["error"]["param"] == "shipping[name]"
    cleared = client.v1.customers.update(shipped["id"], params={"shipping": ""})
    assert cleared.shipping is None


def test_business_and_individual_names_are_accepted_and_returned(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    plain = client.v1.customers.create(params={"email": "plain@example.com"}).to_dict()
    assert "business_name" not in plain and "individual_name" not in plain  # not nullable: absent
    named = client.v1.customers.create(
        params={"business_name": "Analytical Engines Ltd", "individual_name": "Ada Lovelace"}
    )
    assert named.business_name == "Analytical Engines Ltd"
    assert named.individual_name == "Ada Lovelace"
    assert client.v1.customers.retrieve(named.id).business_name == "Analytical Engines Ltd"
    renamed = client.v1.customers.update(
        named.id, params={"business_name": "Difference Engines", "individual_name": ""}
    ).to_dict()
    assert renamed["business_name"] == "Difference Engines"
    assert "individual_name" not in renamed
    too_long = http.post("/v1/customers", data={"business_name": "x" * 151})
    assert too_long.status_code == 400
    assert too_long.json()["error"]["param"] == "business_name"
    assert http.post("/v1/customers", data={"individual_name": "x" * 150}).status_code == 200
