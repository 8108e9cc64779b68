"""The FirstOfficer adapter against the in-process simulator, counting every upstream request."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from starlette.applications import Starlette

from gateway.errors import ErrorKind, ProviderError
from gateway.model import Address, CustomerWrite, Lookup, Money
from gateway.providers.contract import ProviderAdapter
from gateway.providers.firstofficer.adapter import FirstOfficerAdapter
from gateway.providers.firstofficer.simulator import create_app
from gateway.sandbox.base import simulator_state
from gateway.sandbox.faults import Faults
from tests.conftest import AdapterFactory, fast_settings
from tests.conftest import request_log as _log

KEY = "fo_live_k3y_that_must_not_leak"
ADA: dict[str, Any] = {
    "object": "customer",
    "id": 1340573,
    "stripe_id": "cus_1234ABCD",
    "extra_id": "team x/1",
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
    {**ADA, "currency": "EUR"},
    {"id": 1340574, "email": "Bob@Example.com", "extra_id": "team-b", "currency": "eur"},
    {"id": 1340575, "email": "carol@example.com", "stripe_id": "cus_CAROL"},
]
SETTINGS = fast_settings("firstofficer", "http://firstofficer.sandbox", KEY)


@pytest.fixture
def app() -> Starlette:
    return create_app(RECORDS, api_key=KEY)


@pytest.fixture
def adapter(app: Starlette, adapter_factory: AdapterFactory) -> FirstOfficerAdapter:
    return adapter_factory(FirstOfficerAdapter, app, SETTINGS)


def _paths(app: Starlette) -> list[str]:
    return sorted(entry.path for entry in _log(app))


def test_adapter_keeps_the_protocol() -> None:
    made = FirstOfficerAdapter(SETTINGS)
    assert isinstance(made, ProviderAdapter)
    assert made.capabilities.lookups == set(Lookup)
    assert made.capabilities.delete is False
    assert made.capabilities.writable_fields == {"email", "name", "external_id"}
    assert KEY not in repr(made)


async def test_lookup_by_id_maps_the_whole_record(
    app: Starlette, adapter: FirstOfficerAdapter
) -> None:
    found, missing = await adapter.lookup(Lookup.ID, ["1340573", "999"])
    assert missing == []
    [record] = found
    assert record.provider == "firstofficer"
    assert record.id == "1340573"
    assert record.raw == {**ADA, "currency": "eur"}
    assert record.email == "ada@example.com"
    assert record.name == "Ada Lovelace"
    assert record.currency == "eur"
    assert record.address == Address(country="GB", state="London")
    assert record.status == "active"
    assert record.metrics == {
        "currentMrr": Money(69900, "eur"),
        "totalContractValue": Money(629100, "eur"),
        "currentSubscriptionCount": 1,
    }
    assert _paths(app) == ["/v2/customers/1340573", "/v2/customers/999"]


async def test_zero_subscriptions_means_lost(adapter: FirstOfficerAdapter) -> None:
    [[bob]] = await adapter.lookup(Lookup.ID, ["1340574"])
    assert bob.status == "lost"
    assert bob.address is None
    assert bob.metrics["currentSubscriptionCount"] == 0
    assert bob.metrics["currentMrr"] == Money(0, "eur")


async def test_lookup_by_email_dedups_case_insensitively(
    app: Starlette, adapter: FirstOfficerAdapter
) -> None:
    values = ["bob@example.com", "BOB@Example.com", "nobody@example.com", "bob@example.com"]
    results = await adapter.lookup(Lookup.EMAIL, values)
    assert [[r.id for r in found] for found in results] == [
        ["1340574"],
        ["1340574"],
        [],
        ["1340574"],
    ]
    assert _paths(app) == ["/v2/customers/bob@example.com", "/v2/customers/nobody@example.com"]
    assert all(entry.method == "GET" for entry in _log(app))


async def test_lookup_by_stripe_id(app: Starlette, adapter: FirstOfficerAdapter) -> None:
    results = await adapter.lookup(Lookup.STRIPE_ID, ["cus_CAROL", "cus_CAROL", "cus_none"])
    assert [[r.id for r in found] for found in results] == [["1340575"], ["1340575"], []]
    assert _paths(app) == ["/v2/customers/cus_CAROL", "/v2/customers/cus_none"]


async def test_lookup_by_external_id_quotes_the_path(
    app: Starlette, adapter: FirstOfficerAdapter
) -> None:
    results = await adapter.lookup(Lookup.EXTERNAL_ID, ["team x/1", "team-b", "team x/1"])
    assert [[r.id for r in found] for found in results] == [["1340573"], ["1340574"], ["1340573"]]
    assert len(_log(app)) == 2
    assert _paths(app) == ["/v2/customers/team x/1", "/v2/customers/team-b"]


@pytest.mark.parametrize(
    ("by", "values"),
    [
        (Lookup.EXTERNAL_ID, ["1340573", "ada@example.com", "cus_1234ABCD", "", "..", "."]),
        (Lookup.STRIPE_ID, ["1340573", "team-b", "ada@example.com", ""]),
        (Lookup.ID, ["cus_1234ABCD", "team-b", "ada@example.com", "-1", "\uff11\uff12", ""]),
        (Lookup.EMAIL, ["cus_1234ABCD@example.com", "team-b", "1340573", "  "]),
    ],
)
async def test_values_that_would_be_misread_are_never_sent(
    app: Starlette, adapter: FirstOfficerAdapter, by: Lookup, values: list[str]
) -> None:
    assert await adapter.lookup(by, values) == [[] for _ in values]
    assert _log(app) == []


async def test_a_record_that_does_not_match_the_kind_is_dropped() -> None:
    """A real server may resolve a value differently (the docs deprecate non-id lookups)."""
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        other = {**ADA, "stripe_id": "cus_OTHER", "email": "else@example.com", "extra_id": "z"}
        return httpx.Response(200, json=other)

    made = FirstOfficerAdapter(SETTINGS, transport=httpx.MockTransport(handler))
    try:
        assert await made.lookup(Lookup.STRIPE_ID, ["cus_1234ABCD"]) == [[]]
        assert await made.lookup(Lookup.EMAIL, ["ada@example.com"]) == [[]]
        assert await made.lookup(Lookup.EXTERNAL_ID, ["team-b"]) == [[]]
        [[kept]] = await made.lookup(Lookup.ID, ["1340573"])
    finally:
        await made.aclose()
    assert kept.id == "1340573"
    assert len(calls) == 4


async def test_list_page_walks_every_customer(app: Starlette, adapter: FirstOfficerAdapter) -> None:
    first = await adapter.list_page(None, 2)
    assert [r.id for r in first.records] == ["1340573", "1340574"]
    assert first.next_cursor == "1340574"
    second = await adapter.list_page(first.next_cursor, 2)
    assert [r.id for r in second.records] == ["1340575"]
    assert second.next_cursor is None
    queries = [parse_qs(entry.query) for entry in _log(app)]
    assert queries == [{"limit": ["2"]}, {"limit": ["2"], "starting_after": ["1340574"]}]


async def test_list_page_caps_the_limit(app: Starlette, adapter: FirstOfficerAdapter) -> None:
    page = await adapter.list_page(None, 1000)
    assert len(page.records) == 3
    assert page.next_cursor is None
    assert [parse_qs(entry.query) for entry in _log(app)] == [{"limit": ["100"]}]


async def test_create_sends_the_writable_fields(
    app: Starlette, adapter: FirstOfficerAdapter
) -> None:
    # phone is not a FirstOfficer field: it is left out, not sent.
    write = CustomerWrite(email="dan@example.com", name="Dan", external_id="d-1", phone="+1")
    record = await adapter.create(write)
    assert record.id == "1340576"
    assert (record.email, record.name, record.raw["extra_id"]) == ("dan@example.com", "Dan", "d-1")
    [entry] = _log(app)
    assert (entry.method, entry.path) == ("POST", "/v2/customers")
    assert parse_qs(entry.body) == {
        "email": ["dan@example.com"],
        "name": ["Dan"],
        "extra_id": ["d-1"],
    }
    [[again]] = await adapter.lookup(Lookup.EXTERNAL_ID, ["d-1"])
    assert again.id == "1340576"


async def test_create_needs_an_email(app: Starlette, adapter: FirstOfficerAdapter) -> None:
    for write in (
        CustomerWrite(name="No Email"),
        CustomerWrite(email=None),
        CustomerWrite(email=""),
    ):
        with pytest.raises(ProviderError) as caught:
            await adapter.create(write)
        assert caught.value.kind is ErrorKind.BAD_REQUEST
    assert _log(app) == []


async def test_create_with_a_taken_email_is_one_bad_request(
    app: Starlette, adapter: FirstOfficerAdapter
) -> None:
    with pytest.raises(ProviderError) as caught:
        await adapter.create(CustomerWrite(email="ADA@example.com"), idempotency_key="k1")
    assert (caught.value.kind, caught.value.status) == (ErrorKind.BAD_REQUEST, 400)
    assert caught.value.code == "invalid_request_error"
    assert len(_log(app)) == 1
    assert "idempotency-key" not in _log(app)[0].headers


async def test_update_puts_only_given_fields_and_none_clears(
    app: Starlette, adapter: FirstOfficerAdapter
) -> None:
    record = await adapter.update("1340573", CustomerWrite(name="Ada K.", external_id=None))
    assert record.name == "Ada K."
    assert record.raw["extra_id"] is None
    assert record.email == "ada@example.com"
    [entry] = _log(app)
    assert (entry.method, entry.path) == ("PUT", "/v2/customers/1340573")
    assert parse_qs(entry.body, keep_blank_values=True) == {"name": ["Ada K."], "extra_id": [""]}
    moved = await adapter.update("1340574", CustomerWrite(email="robert@example.com"))
    assert moved.email == "robert@example.com"
    [[found]] = await adapter.lookup(Lookup.EMAIL, ["Robert@example.com"])
    assert found.id == "1340574"


async def test_update_refuses_what_fo_cannot_do(
    app: Starlette, adapter: FirstOfficerAdapter
) -> None:
    for record_id, write in (
        ("1340573", CustomerWrite(email=None)),  # FirstOfficer needs an email
        ("cus_1234ABCD", CustomerWrite(name="x")),  # not an FO id: would resolve by shape
    ):
        with pytest.raises(ProviderError) as caught:
            await adapter.update(record_id, write)
        assert caught.value.kind is ErrorKind.BAD_REQUEST
    assert _log(app) == []
    with pytest.raises(ProviderError) as missing:
        await adapter.update("4242", CustomerWrite(name="x"))
    assert missing.value.kind is ErrorKind.NOT_FOUND
    assert len(_log(app)) == 1


async def test_update_to_a_taken_email_is_bad_request(
    app: Starlette, adapter: FirstOfficerAdapter
) -> None:
    with pytest.raises(ProviderError) as caught:
        await adapter.update("1340574", CustomerWrite(email="ada@example.com"))
    assert caught.value.kind is ErrorKind.BAD_REQUEST
    assert len(_log(app)) == 1


async def test_delete_is_not_supported(app: Starlette, adapter: FirstOfficerAdapter) -> None:
    with pytest.raises(NotImplementedError):
        await adapter.delete("1340573")
    assert _log(app) == []


def _assert_clean(exc: ProviderError, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in str(exc)
        assert secret not in repr(exc)
        assert secret not in json.dumps(dict(exc.details))


async def test_wrong_key_is_auth_and_never_retried(
    app: Starlette, adapter_factory: AdapterFactory
) -> None:
    wrong = "fo_wrong_k3y_also_secret"
    made = adapter_factory(FirstOfficerAdapter, app, SETTINGS, api_key=wrong)
    with pytest.raises(ProviderError) as caught:
        await made.lookup(Lookup.ID, ["1340573"])
    assert (caught.value.kind, caught.value.status) == (ErrorKind.AUTH, 401)
    assert len(_log(app)) == 1
    _assert_clean(caught.value, wrong, KEY)


async def test_adapter_authenticates_with_the_token_scheme(adapter: FirstOfficerAdapter) -> None:
    """FirstOfficer's own scheme; the simulator tests cover Basic as well."""
    assert adapter.http.headers["authorization"] == f'Token token="{KEY}"'
    [[record]] = await adapter.lookup(Lookup.ID, ["1340573"])
    assert record.id == "1340573"


async def test_429_then_success_is_exactly_two_requests(
    app: Starlette, adapter: FirstOfficerAdapter
) -> None:
    simulator_state(app).set_faults(Faults(next_statuses=[429], retry_after=0))
    [[record]] = await adapter.lookup(Lookup.ID, ["1340573"])
    assert record.id == "1340573"
    assert [entry.status for entry in _log(app)] == [429, 200]


async def test_500_burst_is_retried_then_given_up(
    app: Starlette, adapter: FirstOfficerAdapter
) -> None:
    simulator_state(app).set_faults(Faults(next_statuses=[500, 500]))
    [[record]] = await adapter.lookup(Lookup.STRIPE_ID, ["cus_1234ABCD"])
    assert record.id == "1340573"
    assert [entry.status for entry in _log(app)] == [500, 500, 200]
    simulator_state(app).log.clear()
    simulator_state(app).set_faults(Faults(next_statuses=[500, 500, 500]))
    with pytest.raises(ProviderError) as caught:
        await adapter.lookup(Lookup.STRIPE_ID, ["cus_1234ABCD"])
    assert (caught.value.kind, caught.value.status) == (ErrorKind.UNAVAILABLE, 500)
    assert caught.value.code == "api_error"
    assert len(_log(app)) == 3
    _assert_clean(caught.value, KEY)


async def test_outage_is_unavailable(app: Starlette, adapter: FirstOfficerAdapter) -> None:
    simulator_state(app).set_faults(Faults(outage=True))
    with pytest.raises(ProviderError) as caught:
        await adapter.lookup(Lookup.EMAIL, ["ada@example.com"])
    assert (caught.value.kind, caught.value.status) == (ErrorKind.UNAVAILABLE, 503)
    assert caught.value.retryable
    assert len(_log(app)) == 3  # the first attempt and max_retries=2
    _assert_clean(caught.value, KEY)


async def test_malformed_json_is_bad_response(app: Starlette, adapter: FirstOfficerAdapter) -> None:
    simulator_state(app).set_faults(Faults(malformed_next=1))
    with pytest.raises(ProviderError) as caught:
        await adapter.list_page(None, 10)
    assert caught.value.kind is ErrorKind.BAD_RESPONSE
    assert len(_log(app)) == 1
    _assert_clean(caught.value, KEY)


async def test_a_body_that_is_not_a_customer_is_bad_response() -> None:
    made = FirstOfficerAdapter(
        SETTINGS, transport=httpx.MockTransport(lambda _: httpx.Response(200, json={"id": "x"}))
    )
    try:
        with pytest.raises(ProviderError) as caught:
            await made.lookup(Lookup.ID, ["1"])
    finally:
        await made.aclose()
    assert caught.value.kind is ErrorKind.BAD_RESPONSE


async def test_values_are_path_quoted_and_404_is_not_found() -> None:
    sent: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.raw_path)
        error = {"type": "invalid_request_error", "message": "No such customer", "param": "id"}
        return httpx.Response(404, json={"error": error})

    made = FirstOfficerAdapter(SETTINGS, transport=httpx.MockTransport(handler))
    try:
        assert await made.lookup(Lookup.EMAIL, ["a+b@example.com"]) == [[]]
        assert await made.lookup(Lookup.EXTERNAL_ID, ["team x/1?#"]) == [[]]
    finally:
        await made.aclose()
    assert sent == [b"/v2/customers/a%2Bb@example.com", b"/v2/customers/team%20x%2F1%3F%23"]


async def test_put_is_retried_only_under_an_idempotency_key(
    app: Starlette, adapter: FirstOfficerAdapter
) -> None:
    simulator_state(app).set_faults(Faults(next_statuses=[503]))
    with pytest.raises(ProviderError) as unkeyed:
        await adapter.update("1340574", CustomerWrite(name="Once"))
    assert unkeyed.value.kind is ErrorKind.UNAVAILABLE
    assert [(e.method, e.status) for e in _log(app)] == [("PUT", 503)]

    _log(app).clear()
    simulator_state(app).set_faults(Faults(next_statuses=[503]))
    record = await adapter.update("1340574", CustomerWrite(name="Twice"), idempotency_key="k")
    assert record.name == "Twice"
    assert [(e.method, e.status) for e in _log(app)] == [("PUT", 503), ("PUT", 200)]
    assert all("idempotency-key" not in e.headers for e in _log(app))
