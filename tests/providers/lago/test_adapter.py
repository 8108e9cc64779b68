"""The Lago adapter against the in-process Lago simulator (httpx.ASGITransport)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from gateway.errors import ErrorKind, ProviderError
from gateway.model import Address, CustomerWrite, Lookup
from gateway.providers.contract import ProviderAdapter
from gateway.providers.lago.adapter import LagoAdapter, to_record
from gateway.providers.lago.simulator import create_app
from gateway.sandbox.base import LoggedRequest, SimulatorState, simulator_state
from tests.conftest import AdapterFactory, fast_settings

KEY = "lago_adapter_test_key"
SETTINGS = fast_settings("lago", "http://lago.test", KEY, breaker_threshold=100)
SEEDS: list[dict[str, Any]] = [
    {
        "external_id": "acme-1",
        "name": "Gavin Belson",
        "legal_name": "Hooli",
        "email": "Gavin@Hooli.test",
        "phone": "+1 555 0100",
        "address_line1": "5230 Penfield Ave",
        "city": "Woodland Hills",
        "state": "CA",
        "zipcode": "91364",
        "country": "US",
        "currency": "USD",
        "created_at": "2024-01-05T10:00:00Z",
        "billing_configuration": {"payment_provider": "stripe", "provider_customer_id": "cus_A1"},
    },
    {
        "external_id": "bob-1",
        "name": "Bob",
        "email": "bob@x.com",
        "created_at": "2024-01-04T00:00:00Z",
    },
    {
        "external_id": "bob-2",
        "name": "Bob Two",
        "email": " BOB@X.COM ",
        "created_at": "2024-01-03T00:00:00Z",
    },
    {
        "external_id": "bob-au",
        "name": "Bob AU",
        "email": "bob@x.com.au",
        "created_at": "2024-01-02T00:00:00Z",
    },
    {
        "external_id": "bob@x.com",  # the search also hits external ids
        "name": "Not Bob",
        "email": "someone@else.test",
        "created_at": "2024-01-01T12:00:00Z",
    },
    {
        "external_id": "shared",
        "firstname": "Alice",
        "lastname": "Shared",
        "email": "alice@y.com, bob@x.com",  # Lago allows a comma-separated list
        "created_at": "2024-01-01T00:00:00Z",
    },
]

Factory = Callable[..., LagoAdapter]


@dataclasses.dataclass
class Harness:
    app: Any
    make: Factory

    @property
    def state(self) -> SimulatorState:
        return simulator_state(self.app)

    @property
    def log(self) -> list[LoggedRequest]:
        return self.state.log

    def calls(self) -> list[tuple[str, str]]:
        return [(entry.method, entry.path) for entry in self.log]

    def queries(self) -> list[dict[str, list[str]]]:
        parsed = [httpx.QueryParams(entry.query) for entry in self.log]
        return [{k: q.get_list(k) for k in q} for q in parsed]

    def bodies(self) -> list[Any]:
        return [json.loads(entry.body) for entry in self.log if entry.body]


@pytest.fixture
def lago(adapter_factory: AdapterFactory) -> Harness:
    """Adapters on the seeded simulator, or on a fresh one holding ``records``."""

    def make(records: Sequence[dict[str, Any]] | None = None, **changes: Any) -> LagoAdapter:
        if records is not None:
            harness.app = create_app(records, api_key=KEY)
        return adapter_factory(LagoAdapter, harness.app, SETTINGS, **changes)

    harness = Harness(app=create_app(SEEDS, api_key=KEY), make=make)
    return harness


def test_adapter_keeps_the_protocol() -> None:
    adapter = LagoAdapter(SETTINGS)
    assert isinstance(adapter, ProviderAdapter)
    assert adapter.capabilities.lookups == {Lookup.ID, Lookup.EXTERNAL_ID, Lookup.EMAIL}
    assert adapter.capabilities.writable_fields == {
        "email",
        "name",
        "phone",
        "company",
        "address",
        "currency",
        "external_id",
        "stripe_id",
        "metadata",
    }
    assert KEY not in repr(adapter)


# --- lookups ----------------------------------------------------------------------------


@pytest.mark.parametrize("by", [Lookup.ID, Lookup.EXTERNAL_ID])
async def test_lookup_by_external_id_is_one_get_per_distinct_value(
    lago: Harness, by: Lookup
) -> None:
    adapter = lago.make()
    found = await adapter.lookup(by, ["acme-1", "missing", "acme-1", "bob@x.com", ""])
    assert [[r.id for r in hit] for hit in found] == [["acme-1"], [], ["acme-1"], ["bob@x.com"], []]
    assert sorted(lago.calls()) == [
        ("GET", "/api/v1/customers/acme-1"),
        ("GET", "/api/v1/customers/bob@x.com"),
        ("GET", "/api/v1/customers/missing"),
    ]
    assert [entry.status for entry in lago.log].count(404) == 1


async def test_lookup_quotes_ids_with_slashes_spaces_and_dots(lago: Harness) -> None:
    odd = ["team 7/eu?x=1#y", "..", "."]
    adapter = lago.make([{"external_id": value, "name": f"Odd {value}"} for value in odd])
    found = await adapter.lookup(Lookup.EXTERNAL_ID, odd)
    assert [[r.name for r in hit] for hit in found] == [[f"Odd {value}"] for value in odd]
    assert sorted(entry.path for entry in lago.log) == sorted(f"/api/v1/customers/{v}" for v in odd)
    assert all(entry.query == "" for entry in lago.log)


async def test_record_mapping(lago: Harness) -> None:
    (hit,), (shared,) = [await lago.make().lookup(Lookup.ID, [v]) for v in ("acme-1", "shared")]
    record = hit[0]
    assert record.provider == "lago" and record.id == "acme-1"
    assert record.raw["external_id"] == "acme-1" and "lago_id" in record.raw
    assert (record.email, record.name, record.company, record.phone) == (
        "Gavin@Hooli.test",
        "Gavin Belson",
        "Hooli",
        "+1 555 0100",
    )
    assert record.address == Address(
        line1="5230 Penfield Ave",
        city="Woodland Hills",
        state="CA",
        postal_code="91364",
        country="US",
    )
    assert record.currency == "usd"
    assert record.created_at == datetime(2024, 1, 5, 10, tzinfo=UTC)
    assert record.metrics == {} and record.status is None and not record.deleted
    # No name: firstname + lastname; a list of addresses: the first one.
    assert (shared[0].name, shared[0].email, shared[0].address) == (
        "Alice Shared",
        "alice@y.com",
        None,
    )


async def test_lookup_by_email_keeps_exact_matches_only(lago: Harness) -> None:
    adapter = lago.make()
    found = await adapter.lookup(Lookup.EMAIL, ["bob@x.com", " Bob@X.com ", "nobody@x.com", " "])
    exact = ["bob-1", "bob-2", "shared"]  # not bob@x.com.au, not the external id "bob@x.com"
    assert [sorted(r.id for r in hit) for hit in found] == [exact, exact, [], []]
    assert sorted(q["search_term"][0] for q in lago.queries()) == ["bob@x.com", "nobody@x.com"]
    assert all(q["per_page"] == ["100"] and q["page"] == ["1"] for q in lago.queries())


async def test_lookup_by_email_follows_search_pages(lago: Harness) -> None:
    crowd = [
        {
            "external_id": f"near-{i:03d}",
            "email": f"bob@x.com.{i}",
            "created_at": f"2024-02-01T00:{i // 60:02d}:{i % 60:02d}Z",
        }
        for i in range(150)
    ]
    target = {"external_id": "the-bob", "email": "bob@x.com", "created_at": "2023-01-01T00:00:00Z"}
    adapter = lago.make([*crowd, target])
    (hit,) = await adapter.lookup(Lookup.EMAIL, ["BOB@x.com"])
    assert [r.id for r in hit] == ["the-bob"]  # oldest, so on the second page
    assert [q["page"] for q in lago.queries()] == [["1"], ["2"]]


async def test_lookup_fails_as_a_whole_on_an_upstream_error(lago: Harness) -> None:
    adapter = lago.make(max_retries=0)
    lago.state.faults.next_statuses = [500]
    with pytest.raises(ProviderError) as caught:
        await adapter.lookup(Lookup.ID, ["acme-1"])
    assert caught.value.kind is ErrorKind.UNAVAILABLE and caught.value.status == 500


async def test_stripe_id_lookups_are_not_offered(lago: Harness) -> None:
    with pytest.raises(NotImplementedError):
        await lago.make().lookup(Lookup.STRIPE_ID, ["cus_A1"])
    assert lago.log == []


# --- listing ------------------------------------------------------------------------------


async def test_list_page_walks_pages_newest_first(lago: Harness) -> None:
    adapter = lago.make()
    ids: list[str] = []
    cursors: list[str | None] = []
    cursor: str | None = None
    for _ in range(10):
        page = await adapter.list_page(cursor, 4)
        ids += [r.id for r in page.records]
        cursor = page.next_cursor
        cursors.append(cursor)
        if cursor is None:
            break
    assert ids == [s["external_id"] for s in SEEDS]
    assert cursors == ["2", None]
    assert [(q["page"], q["per_page"]) for q in lago.queries()] == [(["1"], ["4"]), (["2"], ["4"])]


async def test_list_page_caps_the_page_size_and_checks_the_cursor(lago: Harness) -> None:
    adapter = lago.make()
    page = await adapter.list_page(None, 1000)
    assert len(page.records) == len(SEEDS) and page.next_cursor is None
    assert lago.queries()[0]["per_page"] == ["100"]
    for bad in ("abc", "0", "-1"):
        with pytest.raises(ProviderError) as caught:
            await adapter.list_page(bad, 10)
        assert caught.value.kind is ErrorKind.BAD_REQUEST
    assert len(lago.log) == 1


# --- writes -------------------------------------------------------------------------------


async def test_create_upserts_and_maps_every_writable_field(lago: Harness) -> None:
    adapter = lago.make()
    write = CustomerWrite(
        external_id="new-1",
        name="Dinesh",
        email="dinesh@piedpiper.test",
        phone="+33 1",
        company="Pied Piper",
        currency="eur",
        address=Address(line1="1 Rue", city="Paris", postal_code="75001", country="fr"),
        stripe_id="cus_NEW",
        metadata={"plan": "gold"},
        description="not stored by Lago",
    )
    record = await adapter.create(write, idempotency_key="ik-1")
    assert record.id == "new-1" and record.company == "Pied Piper" and record.currency == "eur"
    assert record.address == Address(line1="1 Rue", city="Paris", postal_code="75001", country="FR")
    assert record.raw["billing_configuration"]["provider_customer_id"] == "cus_NEW"
    assert [(m["key"], m["value"]) for m in record.raw["metadata"]] == [("plan", "gold")]
    (entry,) = lago.log
    assert (entry.method, entry.path) == ("POST", "/api/v1/customers")
    assert "idempotency-key" not in entry.headers  # Lago has none; the upsert is idempotent
    sent = json.loads(entry.body)["customer"]
    assert sent == {
        "external_id": "new-1",
        "email": "dinesh@piedpiper.test",
        "name": "Dinesh",
        "phone": "+33 1",
        "legal_name": "Pied Piper",
        "currency": "EUR",
        "address_line1": "1 Rue",
        "address_line2": None,
        "city": "Paris",
        "state": None,
        "zipcode": "75001",
        "country": "FR",
        "billing_configuration": {"payment_provider": "stripe", "provider_customer_id": "cus_NEW"},
        "metadata": [{"key": "plan", "value": "gold", "display_in_invoice": False}],
    }
    again = await adapter.create(CustomerWrite(external_id="new-1", name="Dinesh C"))
    assert again.raw["lago_id"] == record.raw["lago_id"] and again.company == "Pied Piper"


@pytest.mark.parametrize(
    "write",
    [
        CustomerWrite(name="No id"),
        CustomerWrite(external_id=" ", name="x"),
        CustomerWrite(external_id="x"),
    ],
)
async def test_create_needs_external_id_and_name(lago: Harness, write: CustomerWrite) -> None:
    with pytest.raises(ProviderError) as caught:
        await lago.make().create(write)
    assert caught.value.kind is ErrorKind.BAD_REQUEST
    assert lago.log == []


async def test_update_sends_only_the_given_fields_and_none_clears(lago: Harness) -> None:
    adapter = lago.make()
    record = await adapter.update(
        "acme-1", CustomerWrite(phone=None, company="Hooli XYZ", address=None, stripe_id=None)
    )
    assert lago.calls() == [("GET", "/api/v1/customers/acme-1"), ("POST", "/api/v1/customers")]
    (sent,) = lago.bodies()
    assert sent == {
        "customer": {
            "external_id": "acme-1",
            "phone": None,
            "legal_name": "Hooli XYZ",
            "address_line1": None,
            "address_line2": None,
            "city": None,
            "state": None,
            "zipcode": None,
            "country": None,
            "billing_configuration": {"payment_provider": None},
        }
    }
    assert (record.phone, record.company, record.address) == (None, "Hooli XYZ", None)
    assert (record.name, record.email, record.currency) == (
        "Gavin Belson",
        "Gavin@Hooli.test",
        "usd",
    )
    assert "provider_customer_id" not in record.raw["billing_configuration"]


async def test_update_metadata_names_existing_entries(lago: Harness) -> None:
    adapter = lago.make()
    created = await adapter.create(
        CustomerWrite(external_id="m", name="M", metadata={"plan": "gold", "seats": "3"})
    )
    ids = {m["key"]: m["lago_id"] for m in created.raw["metadata"]}
    updated = await adapter.update(
        "m", CustomerWrite(metadata={"plan": "platinum", "region": "eu"})
    )
    after = {m["key"]: m for m in updated.raw["metadata"]}
    assert set(after) == {"plan", "region"}
    assert after["plan"]["lago_id"] == ids["plan"] and after["plan"]["value"] == "platinum"
    cleared = await adapter.update("m", CustomerWrite(metadata=None))
    assert cleared.raw["metadata"] == []
    assert lago.bodies()[-1] == {"customer": {"external_id": "m", "metadata": []}}


async def test_update_refuses_unknown_records_and_external_id_changes(lago: Harness) -> None:
    adapter = lago.make()
    with pytest.raises(ProviderError) as missing:
        await adapter.update("ghost", CustomerWrite(name="Boo"))
    assert missing.value.kind is ErrorKind.NOT_FOUND
    assert lago.calls() == [("GET", "/api/v1/customers/ghost")]  # no upsert creating "ghost"
    with pytest.raises(ProviderError) as renamed:
        await adapter.update("acme-1", CustomerWrite(external_id="acme-9"))
    assert renamed.value.kind is ErrorKind.BAD_REQUEST
    same = await adapter.update("acme-1", CustomerWrite(external_id="acme-1"))
    assert same.id == "acme-1"
    assert len(lago.log) == 2  # nothing to change: the GET alone


async def test_delete_then_lookups_find_nothing(lago: Harness) -> None:
    adapter = lago.make()
    await adapter.delete("acme-1")
    assert await adapter.lookup(Lookup.ID, ["acme-1"]) == [[]]
    with pytest.raises(ProviderError) as again:
        await adapter.delete("acme-1")
    assert again.value.kind is ErrorKind.NOT_FOUND
    assert lago.calls() == [
        ("DELETE", "/api/v1/customers/acme-1"),
        ("GET", "/api/v1/customers/acme-1"),
        ("DELETE", "/api/v1/customers/acme-1"),
    ]


# --- errors -------------------------------------------------------------------------------


async def test_wrong_key_is_an_auth_error_without_retries(lago: Harness) -> None:
    adapter = lago.make(api_key="wrong-secret-key")
    with pytest.raises(ProviderError) as caught:
        await adapter.lookup(Lookup.ID, ["acme-1"])
    assert caught.value.kind is ErrorKind.AUTH and caught.value.status == 401
    assert "wrong-secret-key" not in f"{caught.value} {caught.value!r}"
    assert len(lago.log) == 1


async def test_validation_errors_are_bad_requests_with_details(lago: Harness) -> None:
    adapter = lago.make()
    write = CustomerWrite(
        external_id="x", name="X", currency="xyz", address=Address(country="Narnia")
    )
    with pytest.raises(ProviderError) as caught:
        await adapter.create(write)
    error = caught.value
    assert error.kind is ErrorKind.BAD_REQUEST and error.status == 422
    assert error.code == "validation_errors"
    assert "country: country_code_invalid" in error.message
    assert "currency: value_is_invalid" in error.message
    assert len(lago.log) == 1  # a 422 is not retried
    with pytest.raises(ProviderError) as too_many:
        await adapter.create(
            CustomerWrite(external_id="y", name="Y", metadata={f"k{i}": "v" for i in range(6)})
        )
    assert "metadata: invalid_count" in too_many.value.message


async def test_429_waits_for_x_ratelimit_reset_then_succeeds(lago: Harness) -> None:
    adapter = lago.make()
    lago.state.faults.retry_after = 0
    lago.state.faults.next_statuses = [429]
    (hit,) = await adapter.lookup(Lookup.ID, ["acme-1"])
    assert [r.id for r in hit] == ["acme-1"]
    assert [entry.status for entry in lago.log] == [429, 200]


async def test_429_reports_x_ratelimit_reset(lago: Harness) -> None:
    adapter = lago.make(max_retries=0)
    lago.state.faults.retry_after = 7
    lago.state.faults.next_statuses = [429]
    with pytest.raises(ProviderError) as caught:
        await adapter.list_page(None, 10)
    assert caught.value.kind is ErrorKind.RATE_LIMITED and caught.value.retry_after == 7.0
    # With retries left but a reset beyond the deadline, the adapter gives up at once.
    patient = lago.make(max_retries=3, deadline=2.0)
    lago.state.faults.next_statuses = [429]
    with pytest.raises(ProviderError) as gave_up:
        await patient.list_page(None, 10)
    assert gave_up.value.kind is ErrorKind.RATE_LIMITED
    assert [entry.status for entry in lago.log] == [429, 429]


async def test_5xx_bursts_are_retried_for_reads_and_keyed_writes(lago: Harness) -> None:
    adapter = lago.make(max_retries=3)
    lago.state.faults.next_statuses = [500, 502, 503]
    page = await adapter.list_page(None, 2)
    assert [r.id for r in page.records] == ["acme-1", "bob-1"]
    assert [entry.status for entry in lago.log] == [500, 502, 503, 200]
    lago.log.clear()
    lago.state.faults.next_statuses = [503]
    created = await adapter.create(
        CustomerWrite(external_id="r", name="Retried"), idempotency_key="k1"
    )
    assert created.id == "r"
    assert [(e.method, e.status) for e in lago.log] == [("POST", 503), ("POST", 200)]
    # Lago takes no idempotency key: the key only allows the retry, it is never sent.
    assert all("idempotency-key" not in e.headers for e in lago.log)
    lago.log.clear()
    lago.state.faults.next_statuses = [500] * 4
    with pytest.raises(ProviderError) as caught:
        await adapter.delete("r", idempotency_key="k2")
    assert caught.value.kind is ErrorKind.UNAVAILABLE
    assert [(e.method, e.status) for e in lago.log] == [("DELETE", 500)] * 4


async def test_writes_without_an_idempotency_key_are_not_retried(lago: Harness) -> None:
    adapter = lago.make(max_retries=3)
    lago.state.faults.next_statuses = [503]
    with pytest.raises(ProviderError) as caught:
        await adapter.create(CustomerWrite(external_id="r", name="Once"))
    assert caught.value.kind is ErrorKind.UNAVAILABLE
    assert [(e.method, e.status) for e in lago.log] == [("POST", 503)]
    await adapter.create(CustomerWrite(external_id="r", name="Once"))
    lago.log.clear()
    lago.state.faults.next_statuses = [500]
    with pytest.raises(ProviderError):
        await adapter.delete("r")
    assert [(e.method, e.status) for e in lago.log] == [("DELETE", 500)]


async def test_malformed_json_is_a_bad_response(lago: Harness) -> None:
    adapter = lago.make()
    lago.state.faults.malformed_next = 1
    with pytest.raises(ProviderError) as caught:
        await adapter.lookup(Lookup.ID, ["acme-1"])
    assert caught.value.kind is ErrorKind.BAD_RESPONSE
    assert len(lago.log) == 1


def test_a_customer_without_external_id_is_a_bad_response() -> None:
    samples: list[Any] = [{"lago_id": "x"}, [], None]
    for raw in samples:
        with pytest.raises(ProviderError) as caught:
            to_record(raw)
        assert caught.value.kind is ErrorKind.BAD_RESPONSE


async def test_base_url_may_already_end_in_api_v1(lago: Harness) -> None:
    adapter = lago.make(base_url="http://lago.test/api/v1/")
    (hit,) = await adapter.lookup(Lookup.ID, ["acme-1"])
    assert [r.id for r in hit] == ["acme-1"]
    assert lago.calls() == [("GET", "/api/v1/customers/acme-1")]


async def test_a_404_that_is_not_lagos_customer_not_found_is_an_error(lago: Harness) -> None:
    adapter = lago.make(base_url="http://lago.test/wrong-prefix")
    with pytest.raises(ProviderError) as caught:
        await adapter.lookup(Lookup.ID, ["acme-1"])
    assert caught.value.kind is ErrorKind.NOT_FOUND and caught.value.code == "not_found"
    assert lago.calls() == [("GET", "/wrong-prefix/api/v1/customers/acme-1")]
