"""The Stripe adapter against the in-process simulator, counting every upstream request."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, parse_qsl

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.config import IdentitySettings
from gateway.errors import ErrorKind, ProviderError
from gateway.model import Address, CustomerWrite, Lookup, Money
from gateway.providers.contract import CreatedWindow, ProviderAdapter
from gateway.providers.notices import collect_notices
from gateway.providers.stripe.adapter import (
    SEARCH,
    STRIPE_API_VERSION,
    StripeAdapter,
    search_literal,
)
from gateway.providers.stripe.search_state import (
    SEARCH_REPROBE_AFTER,
    RecentWrites,
    SearchAvailability,
)
from gateway.providers.stripe.simulator import create_app, parse_query
from gateway.providers.stripe_like.simulator import customer_api
from gateway.sandbox.base import simulator_state
from gateway.sandbox.faults import Faults
from tests.conftest import AdapterFactory, fast_settings, walk_pages
from tests.conftest import request_log as _log

KEY = "sk_test_adapter_k3y_that_must_not_leak"
T0 = 1_700_000_000
ADA: dict[str, Any] = {
    "id": "cus_ADA000000000001",
    "email": "Ada@Example.com",
    "name": "Ada Lovelace",
    "phone": "+44 20 7946 0000",
    "address": {"line1": "12 St James's Sq", "city": "London", "country": "GB"},
    "currency": "GBP",
    "balance": -2500,
    "delinquent": True,
    "created": T0 + 500,
    "metadata": {"company_id": "co_ada"},
}
SETTINGS = fast_settings("stripe", "http://stripe.sandbox", KEY)


def records() -> list[dict[str, Any]]:
    people = [
        {
            "id": f"cus_P{i:02d}",
            "email": f"p{i:02d}@example.com",
            "created": T0 + i,
            "metadata": {"company_id": f"co_{i:02d}"},
        }
        for i in range(15)
    ]
    return [
        ADA,
        *people,
        # Stripe allows one email on several customers.
        {"id": "cus_TWIN1", "email": "twin@example.com", "created": T0 + 100},
        {"id": "cus_TWIN2", "email": "TWIN@example.com", "created": T0 + 200},
        {"id": "cus_QUOTE", "email": "q@example.com", "metadata": {"company_id": "o'brien\\x"}},
        {"id": "cus_GONE", "deleted": True},
    ]


@pytest.fixture
def app() -> Starlette:
    return create_app(records(), api_key=KEY)


@pytest.fixture
def adapter(app: Starlette, adapter_factory: AdapterFactory) -> StripeAdapter:
    return adapter_factory(StripeAdapter, app, SETTINGS)


def _searches(app: Starlette) -> list[str]:
    return [
        parse_qs(entry.query)["query"][0]
        for entry in _log(app)
        if entry.path == "/v1/customers/search"
    ]


def _ids(results: list[list[Any]]) -> list[list[str]]:
    return [[record.id for record in found] for found in results]


def test_adapter_keeps_the_protocol() -> None:
    made = StripeAdapter(SETTINGS)
    assert isinstance(made, ProviderAdapter)
    assert made.capabilities.lookups == set(Lookup)
    assert made.capabilities.batch_size(Lookup.EMAIL) == 10
    assert made.capabilities.batch_size(Lookup.EXTERNAL_ID) == 10
    assert "currency" not in made.capabilities.writable_fields
    assert "company" not in made.capabilities.writable_fields
    assert KEY not in repr(made)


async def test_lookup_by_id_maps_the_record(app: Starlette, adapter: StripeAdapter) -> None:
    values = ["cus_ADA000000000001", "cus_missing", "cus_ADA000000000001", "../v1", ""]
    results = await adapter.lookup(Lookup.ID, values)
    assert _ids(results) == [["cus_ADA000000000001"], [], ["cus_ADA000000000001"], [], []]
    record = results[0][0]
    assert record.provider == "stripe"
    assert record.raw["object"] == "customer" and record.raw["email"] == "Ada@Example.com"
    assert (record.email, record.name, record.phone) == (
        "Ada@Example.com",
        "Ada Lovelace",
        "+44 20 7946 0000",
    )
    assert record.company is None
    assert record.address == Address(line1="12 St James's Sq", city="London", country="GB")
    assert record.currency == "gbp"
    assert record.created_at == datetime.fromtimestamp(T0 + 500, UTC)
    assert record.status == "delinquent"
    assert record.metrics == {"balance": Money(-2500, "gbp")}
    assert record.deleted is False
    # Deduplicated, and values that cannot be Stripe ids never reach a URL.
    assert sorted(e.path for e in _log(app)) == [
        "/v1/customers/cus_ADA000000000001",
        "/v1/customers/cus_missing",
    ]
    assert all(e.headers["stripe-version"] == STRIPE_API_VERSION for e in _log(app))


async def test_stripe_id_lookup_skips_deleted_customers(
    app: Starlette, adapter: StripeAdapter
) -> None:
    results = await adapter.lookup(Lookup.STRIPE_ID, ["cus_P01", "cus_GONE"])
    assert _ids(results) == [["cus_P01"], []]
    [[plain]] = await adapter.lookup(Lookup.ID, ["cus_P02"])
    assert plain.metrics == {"balance": Money(0, "usd")}  # no currency yet: usd
    assert plain.address is None and plain.status is None


async def test_twelve_emails_take_exactly_two_searches(
    app: Starlette, adapter: StripeAdapter
) -> None:
    emails = [f"p{i:02d}@example.com" for i in range(11)] + [
        " TWIN@example.com ",
        "P03@EXAMPLE.COM",
    ]
    results = await adapter.lookup(Lookup.EMAIL, emails)
    assert _ids(results) == [
        *([f"cus_P{i:02d}"] for i in range(11)),
        ["cus_TWIN2", "cus_TWIN1"],  # both, newest first
        ["cus_P03"],  # same normalised email as a value above: found, not searched again
    ]
    queries = _searches(app)
    assert len(queries) == 2 and len(_log(app)) == 2
    assert [len(parse_query(q).clauses) for q in queries] == [10, 2]
    assert all(parse_query(q).any_of for q in queries)
    assert "email:'TWIN@example.com'" in queries[1]
    assert all(parse_qs(e.query)["limit"] == ["100"] for e in _log(app))


async def test_email_not_found_and_blank(app: Starlette, adapter: StripeAdapter) -> None:
    assert await adapter.lookup(Lookup.EMAIL, ["nobody@example.com", "  "]) == [[], []]
    assert _searches(app) == ["email:'nobody@example.com'"]


async def test_search_follows_next_page(adapter_factory: AdapterFactory) -> None:
    crowd = [{"id": f"cus_C{i:03d}", "email": "crowd@example.com"} for i in range(105)]
    crowded = create_app(crowd, api_key=KEY)
    made = adapter_factory(StripeAdapter, crowded, SETTINGS)
    [found] = await made.lookup(Lookup.EMAIL, ["crowd@example.com"])
    assert len({r.id for r in found}) == 105
    log = _log(crowded)
    assert len(log) == 2
    assert "page" not in parse_qs(log[0].query) and parse_qs(log[1].query)["page"]


async def test_external_id_lookup_escapes_quotes(app: Starlette, adapter: StripeAdapter) -> None:
    values = ["co_03", "o'brien\\x", "co_nope", "co_03"]
    results = await adapter.lookup(Lookup.EXTERNAL_ID, values)
    assert _ids(results) == [["cus_P03"], ["cus_QUOTE"], [], ["cus_P03"]]
    [query] = _searches(app)
    assert query == (
        "metadata['company_id']:'co_03' OR metadata['company_id']:'o\\'brien\\\\x' OR "
        "metadata['company_id']:'co_nope'"
    )
    assert search_literal("it's") == "'it\\'s'"


async def test_external_id_uses_the_configured_metadata_key(
    app: Starlette, adapter_factory: AdapterFactory
) -> None:
    tenant = IdentitySettings(external_id_metadata_key="tenant")
    made = adapter_factory(StripeAdapter, app, SETTINGS, tenant)
    created = await made.create(CustomerWrite(email="t@example.com", external_id="tn_1"))
    assert created.raw["metadata"] == {"tenant": "tn_1"}
    assert _ids(await made.lookup(Lookup.EXTERNAL_ID, ["co_03"])) == [[]]
    assert _searches(app)[-1] == "metadata['tenant']:'co_03'"


async def test_list_page_walks_every_customer(app: Starlette, adapter: StripeAdapter) -> None:
    seen = [r.id for r in await walk_pages(adapter, 7)]
    assert len(seen) == len(set(seen)) == 19  # every live customer, the deleted one left out
    assert seen[0] == "cus_ADA000000000001"
    assert len(_log(app)) == 3
    assert parse_qs(_log(app)[1].query) == {"limit": ["7"], "starting_after": [seen[6]]}
    await adapter.list_page(None, 500)
    assert parse_qs(_log(app)[-1].query) == {"limit": ["100"]}


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


async def test_a_creation_window_is_one_list_call(app: Starlette, adapter: StripeAdapter) -> None:
    assert adapter.capabilities.created_window and isinstance(adapter, CreatedWindow)

    found, complete = await adapter.created_between(_at(T0 + 3), _at(T0 + 7.5), 100)

    # Both ends included, the end widened to a whole second; newest first; one call.
    assert [r.id for r in found] == [f"cus_P{i:02d}" for i in range(8, 2, -1)]
    assert complete
    [call] = _log(app)
    assert (call.method, call.path) == ("GET", "/v1/customers")
    assert parse_qs(call.query) == {
        "created[gte]": [str(T0 + 3)],
        "created[lte]": [str(T0 + 8)],
        "limit": ["100"],
    }


async def test_a_creation_window_longer_than_the_limit_is_incomplete(
    app: Starlette, adapter: StripeAdapter
) -> None:
    found, complete = await adapter.created_between(_at(T0), _at(T0 + 500), 4)
    assert [r.id for r in found] == ["cus_ADA000000000001", "cus_TWIN2", "cus_TWIN1", "cus_P14"]
    assert not complete
    await adapter.created_between(_at(T0), _at(T0 + 500), 500)
    assert [parse_qs(e.query)["limit"] for e in _log(app)] == [["4"], ["100"]]


async def test_a_failed_creation_window_raises(app: Starlette, adapter: StripeAdapter) -> None:
    simulator_state(app).set_faults(Faults(next_statuses=[400]))
    with pytest.raises(ProviderError) as info:
        await adapter.created_between(_at(T0), _at(T0 + 10), 100)
    assert info.value.kind is ErrorKind.BAD_REQUEST


async def test_create_update_delete(app: Starlette, adapter: StripeAdapter) -> None:
    write = CustomerWrite(
        email="grace@example.com",
        name="Grace Hopper",
        phone=None,  # nothing to clear on create: not sent
        address=Address(line1="1 Navy Way", city="Arlington", country="US"),
        metadata={"plan": "pro"},
        external_id="co_grace",
        currency="usd",  # not writable on Stripe customers: ignored
        company="US Navy",  # no such Stripe field: ignored
    )
    created = await adapter.create(write, idempotency_key="create-grace")
    assert created.email == "grace@example.com" and created.name == "Grace Hopper"
    assert created.raw["metadata"] == {"plan": "pro", "company_id": "co_grace"}
    assert created.address == Address(line1="1 Navy Way", city="Arlington", country="US")
    assert created.currency is None
    post = _log(app)[-1]
    assert post.headers["idempotency-key"] == "create-grace"
    assert dict(parse_qsl(post.body, keep_blank_values=True)) == {
        "email": "grace@example.com",
        "name": "Grace Hopper",
        "address[line1]": "1 Navy Way",
        "address[line2]": "",
        "address[city]": "Arlington",
        "address[state]": "",
        "address[postal_code]": "",
        "address[country]": "US",
        "metadata[plan]": "pro",
        "metadata[company_id]": "co_grace",
    }

    updated = await adapter.update(
        created.id,
        CustomerWrite(name=None, address=None, external_id=None, metadata={"seats": "5"}),
        idempotency_key="update-grace",
    )
    assert updated.name is None and updated.address is None
    assert updated.email == "grace@example.com"  # not given: unchanged
    assert updated.raw["metadata"] == {"plan": "pro", "seats": "5"}
    assert _log(app)[-1].headers["idempotency-key"] == "update-grace"
    cleared = await adapter.update(created.id, CustomerWrite(metadata=None))
    assert cleared.raw["metadata"] == {}
    assert "idempotency-key" not in _log(app)[-1].headers

    await adapter.delete(created.id, idempotency_key="delete-grace")
    assert _log(app)[-1].method == "DELETE"
    assert await adapter.lookup(Lookup.ID, [created.id]) == [[]]
    with pytest.raises(ProviderError) as info:
        await adapter.update(created.id, CustomerWrite(name="Ghost"))
    assert info.value.kind is ErrorKind.NOT_FOUND and info.value.code == "resource_missing"


async def test_idempotent_retry_of_a_create_makes_one_customer(
    app: Starlette, adapter: StripeAdapter
) -> None:
    write = CustomerWrite(email="once@example.com")
    first = await adapter.create(write, idempotency_key="same-key")
    again = await adapter.create(write, idempotency_key="same-key")
    assert again.id == first.id
    assert len(customer_api(app).store) == len(records()) + 1


async def test_metadata_clear_with_external_id_is_refused(
    app: Starlette, adapter: StripeAdapter
) -> None:
    with pytest.raises(ProviderError) as info:
        await adapter.update("cus_P01", CustomerWrite(metadata=None, external_id="co_x"))
    assert info.value.kind is ErrorKind.BAD_REQUEST
    with pytest.raises(ProviderError):
        await adapter.create(CustomerWrite(metadata={"a[b]": "c"}))
    assert _log(app) == []


async def test_read_after_write_is_covered_while_search_lags(
    adapter_factory: AdapterFactory,
) -> None:
    app = create_app(records(), api_key=KEY, search_lag_seconds=600)
    made = adapter_factory(StripeAdapter, app, SETTINGS)
    fresh = adapter_factory(StripeAdapter, app, SETTINGS)
    created = await made.create(CustomerWrite(email="Lag@Example.com", external_id="co_lag"))
    simulator_state(app).log.clear()
    [[by_email]] = await made.lookup(Lookup.EMAIL, ["lag@example.com"])
    assert by_email.id == created.id
    log = _log(app)
    assert sorted(e.path for e in log) == sorted(
        ["/v1/customers/search", f"/v1/customers/{created.id}"]
    )
    [[by_external]] = await made.lookup(Lookup.EXTERNAL_ID, ["co_lag"])
    assert by_external.id == created.id
    # Another adapter has no memory of the write: the lag is real.
    assert await fresh.lookup(Lookup.EMAIL, ["lag@example.com"]) == [[]]

    # The index still has P01's old email; the adapter knows better.
    await made.update("cus_P01", CustomerWrite(email="p01.new@example.com"))
    old, new = await made.lookup(Lookup.EMAIL, ["p01@example.com", "p01.new@example.com"])
    assert old == [] and [r.id for r in new] == ["cus_P01"]
    assert [r.id for r in (await fresh.lookup(Lookup.EMAIL, ["p01@example.com"]))[0]] == ["cus_P01"]

    await made.delete(created.id)
    assert await made.lookup(Lookup.EMAIL, ["lag@example.com"]) == [[]]


def test_recent_writes_are_bounded_in_time_and_size() -> None:
    now = [0.0]
    recent = RecentWrites(ttl=10, max_entries=2, clock=lambda: now[0])
    recent.remember("cus_a", [(Lookup.EMAIL, "a@x.com")])
    recent.remember("cus_b", [(Lookup.EMAIL, "shared@x.com")])
    recent.remember("cus_c", [(Lookup.EMAIL, "shared@x.com")])
    assert "cus_a" not in recent and len(recent) == 2  # oldest dropped
    assert recent.ids_for(Lookup.EMAIL, "shared@x.com") == ["cus_b", "cus_c"]
    now[0] = 5
    recent.remember("cus_b", [(Lookup.EMAIL, "b@x.com")])  # re-keyed and refreshed
    assert recent.ids_for(Lookup.EMAIL, "shared@x.com") == ["cus_c"]
    now[0] = 12
    assert "cus_c" not in recent and recent.ids_for(Lookup.EMAIL, "b@x.com") == ["cus_b"]
    now[0] = 16
    assert len(recent) == 0 and recent.ids_for(Lookup.EMAIL, "b@x.com") == []


async def test_bad_key_is_an_auth_error_without_the_key(
    app: Starlette, adapter_factory: AdapterFactory
) -> None:
    wrong = "sk_test_wrong_but_secret_123456"
    made = adapter_factory(StripeAdapter, app, SETTINGS, api_key=wrong)
    with pytest.raises(ProviderError) as info:
        await made.lookup(Lookup.EMAIL, ["p01@example.com"])
    error = info.value
    assert error.kind is ErrorKind.AUTH and error.status == 401
    assert wrong not in str(error) and wrong not in repr(error)
    assert len(_log(app)) == 1


async def test_rate_limit_is_retried_once(app: Starlette, adapter: StripeAdapter) -> None:
    simulator_state(app).set_faults(Faults(next_statuses=[429], retry_after=0.0))
    [[found]] = await adapter.lookup(Lookup.ID, ["cus_P04"])
    assert found.id == "cus_P04"
    assert [e.status for e in _log(app)] == [429, 200]


async def test_bad_request_is_not_retried(app: Starlette, adapter: StripeAdapter) -> None:
    with pytest.raises(ProviderError) as info:
        await adapter.list_page("cus_not_there", 10)
    assert info.value.kind is ErrorKind.BAD_REQUEST and info.value.status == 400
    with pytest.raises(ProviderError) as invalid:
        await adapter.create(CustomerWrite(email="not-an-email"), idempotency_key="k-bad")
    assert invalid.value.kind is ErrorKind.BAD_REQUEST and invalid.value.code == "email_invalid"
    assert [e.status for e in _log(app)] == [400, 400]
    assert KEY not in str(invalid.value)


async def test_server_errors_are_retried_then_raised(
    app: Starlette, adapter: StripeAdapter
) -> None:
    simulator_state(app).set_faults(Faults(error_rate=1.0, error_status=500))
    with pytest.raises(ProviderError) as info:
        await adapter.lookup(Lookup.ID, ["cus_P01"])
    assert info.value.kind is ErrorKind.UNAVAILABLE and info.value.status == 500
    assert len(_log(app)) == 3  # the first attempt and two retries


async def test_writes_are_retried_only_under_an_idempotency_key(
    app: Starlette, adapter: StripeAdapter
) -> None:
    simulator_state(app).set_faults(Faults(next_statuses=[503]))
    with pytest.raises(ProviderError) as unkeyed:
        await adapter.create(CustomerWrite(email="unkeyed@example.com"))
    assert unkeyed.value.kind is ErrorKind.UNAVAILABLE
    assert [(e.method, e.status) for e in _log(app)] == [("POST", 503)]

    simulator_state(app).log.clear()
    simulator_state(app).set_faults(Faults(next_statuses=[503]))
    created = await adapter.create(CustomerWrite(email="keyed@example.com"), idempotency_key="k")
    assert [(e.method, e.status) for e in _log(app)] == [("POST", 503), ("POST", 200)]

    simulator_state(app).log.clear()
    simulator_state(app).set_faults(Faults(next_statuses=[503]))
    with pytest.raises(ProviderError):
        await adapter.delete(created.id)
    assert [(e.method, e.status) for e in _log(app)] == [("DELETE", 503)]

    simulator_state(app).log.clear()
    simulator_state(app).set_faults(Faults(next_statuses=[503]))
    await adapter.delete(created.id, idempotency_key="d")
    assert [(e.method, e.status) for e in _log(app)] == [("DELETE", 503), ("DELETE", 200)]
    # Stripe ignores keys on DELETE, so none is sent; the key only allows the retry.
    assert all("idempotency-key" not in e.headers for e in _log(app))


# -- accounts (and fakes) without search ------------------------------------------------------

NO_ROUTE = (
    "Unrecognized request URL (GET: /v1/customers/search). Please see https://stripe.com/docs "
    "or we can help at https://support.stripe.com/."
)
OLD_VERSION = (
    "Search is not supported on api version 2016-07-06. Update your API version, or set the "
    "API Version of this request to 2020-08-27 or greater."
)


class SearchRefusingFront:
    """The Stripe simulator behind a front whose search route refuses, like an account or a
    Stripe-compatible fake without search; it records every request that reaches it."""

    def __init__(self, inner: ASGIApp, status: int = 404, message: str = NO_ROUTE) -> None:
        self.inner = inner
        self.status = status
        self.message = message
        self.refusing = True
        self.calls: list[tuple[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = scope["query_string"].decode()
            self.calls.append((scope["path"], query))
            if self.refusing and scope["path"] == SEARCH:
                body = {"error": {"type": "invalid_request_error", "message": self.message}}
                await JSONResponse(body, status_code=self.status)(scope, receive, send)
                return
        await self.inner(scope, receive, send)

    def take(self) -> list[tuple[str, dict[str, list[str]]]]:
        """The requests since the last call, sorted (concurrent calls arrive in any order)."""
        calls = sorted(self.calls)
        self.calls.clear()
        return [(path, parse_qs(query)) for path, query in calls]


@pytest.fixture
async def searchless() -> AsyncIterator[tuple[SearchRefusingFront, StripeAdapter]]:
    front = SearchRefusingFront(create_app(records(), api_key=KEY))
    made = StripeAdapter(SETTINGS, transport=httpx.ASGITransport(app=front))
    yield front, made
    await made.aclose()


Searchless = tuple[SearchRefusingFront, StripeAdapter]


def listed(email: str) -> tuple[str, dict[str, list[str]]]:
    return ("/v1/customers", {"email": [email], "limit": ["100"]})


def searched(query: str) -> tuple[str, dict[str, list[str]]]:
    return (SEARCH, {"query": [query], "limit": ["100"]})


async def test_emails_use_the_list_filter_once_search_is_missing(
    searchless: Searchless, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="customer_gateway.providers.stripe")
    front, made = searchless
    emails = ["p01@example.com", "TWIN@example.com", " twin@example.com ", "nobody@example.com"]
    results = await made.lookup(Lookup.EMAIL, emails)
    # The list filter is exact and case-sensitive: cus_TWIN1 (twin@…) is not found by it.
    assert _ids(results) == [["cus_P01"], ["cus_TWIN2"], ["cus_TWIN2"], []]
    assert front.take() == [
        listed("TWIN@example.com"),
        listed("nobody@example.com"),
        listed("p01@example.com"),
        searched(
            "email:'p01@example.com' OR email:'TWIN@example.com' OR email:'nobody@example.com'"
        ),
    ]
    assert made.search_unavailable
    note = made.search_note
    assert note is not None and "HTTP 404" in note
    assert "list filter GET /v1/customers?email=" in note and "case-sensitively" in note
    [warning] = caplog.records
    assert warning.getMessage().startswith(
        "customer search is unavailable on this Stripe account (HTTP 404: Unrecognized"
    )

    # Remembered: the next lookup goes straight to the list, and nothing is logged again.
    [[found]] = await made.lookup(Lookup.EMAIL, ["p02@example.com"])
    assert found.id == "cus_P02"
    assert front.take() == [listed("p02@example.com")]
    assert len(caplog.records) == 1


async def test_external_id_lookups_find_nothing_and_say_why_without_search(
    searchless: Searchless,
) -> None:
    front, made = searchless
    with collect_notices() as notices:
        assert await made.lookup(Lookup.EXTERNAL_ID, ["co_03"]) == [[]]
    assert front.take() == [searched("metadata['company_id']:'co_03'")]
    message = notices["stripe"]
    assert message.startswith("customer search is unavailable on this Stripe account")
    assert "metadata[company_id] need search" in message

    with collect_notices() as notices:
        assert await made.lookup(Lookup.EXTERNAL_ID, ["co_04"]) == [[]]
    assert front.take() == []  # known unsupported: not asked again
    assert "stripe" in notices
    assert _ids(await made.lookup(Lookup.EMAIL, ["p03@example.com"])) == [["cus_P03"]]
    assert _ids(await made.lookup(Lookup.ID, ["cus_P04"])) == [["cus_P04"]]
    assert front.take() == [listed("p03@example.com"), ("/v1/customers/cus_P04", {})]


async def test_search_is_probed_again_after_ten_minutes(searchless: Searchless) -> None:
    front, made = searchless
    now = [0.0]
    made.search_availability = SearchAvailability(clock=lambda: now[0])
    await made.lookup(Lookup.EMAIL, ["p01@example.com"])
    assert front.take() == [listed("p01@example.com"), searched("email:'p01@example.com'")]

    now[0] = SEARCH_REPROBE_AFTER - 1
    await made.lookup(Lookup.EMAIL, ["p01@example.com"])
    assert front.take() == [listed("p01@example.com")]

    now[0] = SEARCH_REPROBE_AFTER  # probed, still refused: another ten minutes of the list
    await made.lookup(Lookup.EMAIL, ["p01@example.com"])
    assert front.take() == [listed("p01@example.com"), searched("email:'p01@example.com'")]
    now[0] = 2 * SEARCH_REPROBE_AFTER - 1
    await made.lookup(Lookup.EMAIL, ["p01@example.com"])
    assert front.take() == [listed("p01@example.com")]

    front.refusing = False  # the account gained search
    now[0] = 2 * SEARCH_REPROBE_AFTER
    assert _ids(await made.lookup(Lookup.EMAIL, ["p01@example.com"])) == [["cus_P01"]]
    assert front.take() == [searched("email:'p01@example.com'")]
    assert not made.search_unavailable and made.search_note is None
    assert _ids(await made.lookup(Lookup.EXTERNAL_ID, ["co_01"])) == [["cus_P01"]]
    assert front.take() == [searched("metadata['company_id']:'co_01'")]


async def test_stripes_search_not_supported_400_falls_back_but_other_400s_do_not() -> None:
    front = SearchRefusingFront(create_app(records(), api_key=KEY), 400, "Invalid search query")
    made = StripeAdapter(SETTINGS, transport=httpx.ASGITransport(app=front))
    with pytest.raises(ProviderError) as info:
        await made.lookup(Lookup.EMAIL, ["p01@example.com"])
    assert info.value.kind is ErrorKind.BAD_REQUEST and info.value.code == "invalid_request_error"
    assert not made.search_unavailable
    assert front.take() == [searched("email:'p01@example.com'")]

    front.message = OLD_VERSION
    assert _ids(await made.lookup(Lookup.EMAIL, ["p01@example.com"])) == [["cus_P01"]]
    assert front.take() == [listed("p01@example.com"), searched("email:'p01@example.com'")]
    assert made.search_note is not None and "HTTP 400: Search is not supported" in made.search_note
    await made.aclose()
