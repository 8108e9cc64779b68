"""The FirstOfficer simulator over loopback, driven with raw httpx as a real client would."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp

from gateway.providers.firstofficer.simulator import FIRST_ID, create_app

KEY = "fo_sandbox_test_key"
ADA: dict[str, Any] = {
    "object": "customer",
    "id": 1340573,
    "stripe_id": "cus_1234ABCD",
    "extra_id": None,
    "email": "ada@example.com",
    "name": "Ada Lovelace",
    "total_contract_value": 629100,
    "current_mrr": 69900,
    "current_subscription_count": 1,
    "currency": "usd",
    "country": "GB",
    "state": "London",
}
RECORDS: list[dict[str, Any]] = [
    {**ADA, "currency": "USD"},
    {"id": 1340574, "email": "Bob@Example.com", "extra_id": "team-x"},
    # An extra_id made of digits: the GET reads it as a FirstOfficer id first.
    {"id": 1340575, "email": "carol@example.com", "extra_id": "1340573"},
]
FULL_FIELDS = set(ADA)

Client = Callable[..., httpx.Client]


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def client(live_server: Callable[[ASGIApp], str]) -> Iterator[Client]:
    """Clients against one simulator seeded with RECORDS; Token auth unless told otherwise."""
    url = live_server(create_app(RECORDS, api_key=KEY))
    opened: list[httpx.Client] = []

    def make(**kwargs: Any) -> httpx.Client:
        kwargs.setdefault("headers", {"Authorization": f'Token token="{KEY}"'})
        made = httpx.Client(base_url=url, timeout=5, **kwargs)
        opened.append(made)
        return made

    yield make
    for each in opened:
        each.close()


def _error(response: httpx.Response, status: int, param: str | None = None) -> str:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"].get("param") == param
    message: str = body["error"]["message"]
    assert message
    return message


@pytest.mark.parametrize(
    "identifier",
    ["1340573", "cus_1234ABCD", "ada@example.com", " ADA@Example.COM ", "team-x"],
)
def test_get_resolves_every_id_kind(client: Client, identifier: str) -> None:
    response = client().get(f"/v2/customers/{identifier}")
    assert response.status_code == 200
    expected_id = 1340574 if identifier == "team-x" else 1340573
    assert response.json()["id"] == expected_id
    if expected_id == 1340573:
        assert response.json() == ADA  # every field, currency lower-cased


def test_get_prefers_fo_id_over_a_numeric_extra_id(client: Client) -> None:
    # Carol's extra_id is "1340573", but digits resolve as a FirstOfficer id.
    assert client().get("/v2/customers/1340573").json()["email"] == "ada@example.com"


def test_minimal_record_gets_every_field(client: Client) -> None:
    body = client().get("/v2/customers/1340574").json()
    assert set(body) == FULL_FIELDS
    assert body == {
        "object": "customer",
        "id": 1340574,
        "stripe_id": None,
        "extra_id": "team-x",
        "email": "Bob@Example.com",
        "name": None,
        "total_contract_value": 0,
        "current_mrr": 0,
        "current_subscription_count": 0,
        "currency": "usd",
        "country": None,
        "state": None,
    }


@pytest.mark.parametrize("identifier", ["999", "cus_missing", "nobody@example.com", "nope"])
def test_unknown_id_is_404_in_fo_shape(client: Client, identifier: str) -> None:
    response = client().get(f"/v2/customers/{identifier}")
    assert _error(response, 404, "id") == f"No such customer: '{identifier}'"


def test_put_changes_only_given_params(client: Client) -> None:
    http = client()
    response = http.put("/v2/customers/cus_1234ABCD", data={"extra_id": "Team X"})
    assert response.status_code == 200
    assert response.json() == {**ADA, "extra_id": "Team X"}
    response = http.put("/v2/customers/1340573", data={"name": "Ada K.", "email": "ak@example.com"})
    assert response.json() == {
        **ADA,
        "extra_id": "Team X",
        "name": "Ada K.",
        "email": "ak@example.com",
    }
    # Visible afterwards, under the new email and extra_id too.
    assert http.get("/v2/customers/AK@example.com").json()["name"] == "Ada K."
    assert http.get("/v2/customers/Team X").json()["id"] == 1340573


def test_put_with_empty_extra_id_clears_it(client: Client) -> None:
    http = client()
    assert http.put("/v2/customers/team-x", data={"extra_id": ""}).json()["extra_id"] is None
    _error(http.get("/v2/customers/team-x"), 404, "id")


def test_put_keeps_email_unique(client: Client) -> None:
    http = client()
    response = http.put("/v2/customers/1340574", data={"email": "ADA@example.com"})
    _error(response, 400, "email")
    _error(http.put("/v2/customers/1340574", data={"email": ""}), 400, "email")
    # Re-sending a customer's own email (any case) is fine.
    same = http.put("/v2/customers/1340574", data={"email": "bob@example.com"})
    assert same.json()["email"] == "bob@example.com"
    assert http.get("/v2/customers/1340574").json()["email"] == "bob@example.com"


def test_put_unknown_customer_is_404(client: Client) -> None:
    _error(client().put("/v2/customers/4242", data={"name": "x"}), 404, "id")


def test_create_returns_the_full_object_and_persists(client: Client) -> None:
    http = client()
    response = http.post(
        "/v2/customers",
        data={"email": "dan@example.com", "name": "Dan", "extra_id": "d-1", "stripe_id": "cus_D"},
    )
    assert response.status_code == 200
    created = response.json()
    assert created == {
        "object": "customer",
        "id": 1340576,
        "stripe_id": "cus_D",
        "extra_id": "d-1",
        "email": "dan@example.com",
        "name": "Dan",
        "total_contract_value": 0,
        "current_mrr": 0,
        "current_subscription_count": 0,
        "currency": "usd",
        "country": None,
        "state": None,
    }
    for identifier in ("1340576", "cus_D", "DAN@example.com", "d-1"):
        assert http.get(f"/v2/customers/{identifier}").json() == created


def test_create_validates_email_and_stripe_id(client: Client) -> None:
    http = client()
    _error(http.post("/v2/customers", data={"name": "No Email"}), 400, "email")
    _error(http.post("/v2/customers", data={"email": " BOB@example.com"}), 400, "email")
    _error(http.post("/v2/customers", data={"email": "not-an-email"}), 400, "email")
    taken = {"email": "new@example.com", "stripe_id": "cus_1234ABCD"}
    _error(http.post("/v2/customers", data=taken), 400, "stripe_id")
    bad = {"email": "new@example.com", "stripe_id": "acct_1"}
    _error(http.post("/v2/customers", data=bad), 400, "stripe_id")
    # None of the rejected creates left a record behind.
    listed = http.get("/v2/customers").json()["data"]
    assert [c["id"] for c in listed] == [1340573, 1340574, 1340575]


def test_create_in_an_empty_simulator_uses_fo_like_ids(
    live_server: Callable[[ASGIApp], str],
) -> None:
    url = live_server(create_app(api_key=KEY))
    with httpx.Client(base_url=url, auth=(KEY, "")) as http:
        first = http.post("/v2/customers", data={"email": "a@example.com"}).json()
        second = http.post("/v2/customers", data={"email": "b@example.com"}).json()
    assert (first["id"], second["id"]) == (FIRST_ID, FIRST_ID + 1)


def test_there_is_no_delete(client: Client) -> None:
    http = client()
    response = http.delete("/v2/customers/1340573")
    assert response.status_code == 405
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert http.get("/v2/customers/1340573").status_code == 200


def test_unknown_path_is_404_in_fo_shape(client: Client) -> None:
    _error(client().get("/v2/metrics"), 404)


def test_list_pages_by_starting_after(live_server: Callable[[ASGIApp], str]) -> None:
    records = [{"id": 100 + i, "email": f"c{i}@example.com"} for i in range(25)]
    url = live_server(create_app(records, api_key=KEY))
    seen: list[int] = []
    pages = 0
    with httpx.Client(base_url=url, auth=(KEY, "")) as http:
        params: dict[str, Any] = {"limit": 10}
        for _ in range(10):  # bounded: 3 pages expected
            body = http.get("/v2/customers", params=params).json()
            assert body["object"] == "list"
            assert all(set(c) == FULL_FIELDS for c in body["data"])
            seen += [c["id"] for c in body["data"]]
            pages += 1
            if not body["has_more"]:
                break
            params = {"limit": 10, "starting_after": body["data"][-1]["id"]}
        default = http.get("/v2/customers").json()
        after_last = http.get("/v2/customers", params={"starting_after": 124}).json()
    assert seen == list(range(100, 125))
    assert pages == 3
    assert len(default["data"]) == 10
    assert default["has_more"] is True
    assert after_last == {"object": "list", "has_more": False, "data": []}


@pytest.mark.parametrize(
    ("limit", "expected"), [("0", 1), ("-5", 1), ("500", 100), ("abc", 10), ("100", 100)]
)
def test_list_clamps_limit_instead_of_failing(
    live_server: Callable[[ASGIApp], str], limit: str, expected: int
) -> None:
    records = [{"id": i + 1, "email": f"c{i}@example.com"} for i in range(105)]
    url = live_server(create_app(records, api_key=KEY))
    with httpx.Client(base_url=url, auth=(KEY, "")) as http:
        response = http.get("/v2/customers", params={"limit": limit})
    assert response.status_code == 200
    assert len(response.json()["data"]) == expected
    assert response.json()["has_more"] is True


def test_list_with_a_non_integer_cursor_is_an_empty_page(client: Client) -> None:
    response = client().get("/v2/customers", params={"starting_after": "cus_x"})
    assert response.json() == {"object": "list", "has_more": False, "data": []}


@pytest.mark.parametrize(
    "authorization",
    [f'Token token="{KEY}"', f"Token token={KEY}", _basic(KEY, "")],
)
def test_both_auth_schemes_are_accepted(client: Client, authorization: str) -> None:
    response = client(headers={"Authorization": authorization}).get("/v2/customers/1340573")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": 'Token token="wrong"'},
        {"Authorization": f"Bearer {KEY}"},
        {"Authorization": _basic("wrong", KEY)},
        {"Authorization": "Basic not-base64!"},
    ],
)
def test_bad_or_missing_key_is_401(client: Client, headers: dict[str, str]) -> None:
    response = client(headers=headers).get("/v2/customers/1340573")
    message = _error(response, 401)
    assert KEY not in response.text
    assert "API key" in message
