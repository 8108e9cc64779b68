"""The ChartMogul adapter against the in-process simulator (httpx.ASGITransport)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.config import ProviderSettings
from gateway.errors import ErrorKind, ProviderError
from gateway.model import Address, CustomerWrite, Lookup, Money
from gateway.providers.chartmogul.adapter import ChartMogulAdapter, parse_error
from gateway.providers.chartmogul.simulator import DEFAULT_DATA_SOURCE_UUID, create_app
from gateway.providers.contract import ProviderAdapter
from gateway.providers.upstream.wire import Answer
from gateway.sandbox.base import LoggedRequest, simulator_state
from gateway.sandbox.faults import Faults
from tests.conftest import AdapterFactory, answer, fast_settings, walk_pages
from tests.conftest import request_log as log

STRIPE_DS = "ds_fef05d54-47b4-431b-aed2-eb6b9e545430"
ADA = "cus_de305d54-75b4-431b-adb2-eb6b9e546012"
GRACE = "cus_0a1b2c3d-0000-4000-8000-000000000002"
UNKNOWN = "cus_ffffffff-0000-4000-8000-00000000ffff"

SEED: list[dict[str, Any]] = [
    {
        "uuid": ADA,
        "external_id": "cus_4Z2ZpyJFuQ0XMb",
        "data_source_uuid": STRIPE_DS,
        "billing-system-type": "Stripe",
        "name": "Ada Lovelace",
        "email": "Ada@Example.com",
        "company": "",
        "customer-since": "2023-06-09T13:16:00-04:00",
        "city": "London",
        "country": "gb",
        "zip": "N1",
        "mrr": 3000,
        "arr": 36000,
        "currency": "USD",
    },
    {"uuid": GRACE, "external_id": "grace-1", "name": "Grace Hopper", "email": "grace@navy.mil"},
]

SETTINGS = fast_settings("chartmogul", "http://chartmogul.test", "sandbox")

Make = Callable[..., ChartMogulAdapter]


@pytest.fixture
def app() -> Starlette:
    return create_app(SEED)


@pytest.fixture
def make(app: Starlette, adapter_factory: AdapterFactory) -> Make:
    """Builds adapters over ``app`` (or ``on``), optionally with other settings."""

    def build(
        settings: ProviderSettings = SETTINGS, on: Starlette | None = None
    ) -> ChartMogulAdapter:
        return adapter_factory(ChartMogulAdapter, on or app, settings)

    return build


@pytest.fixture
def adapter(make: Make) -> ChartMogulAdapter:
    return make()


def query(entry: LoggedRequest) -> dict[str, list[str]]:
    return parse_qs(entry.query)


def test_adapter_keeps_the_protocol(adapter: ChartMogulAdapter) -> None:
    assert isinstance(adapter, ProviderAdapter)
    assert adapter.capabilities.max_page_size == 200
    assert all(adapter.capabilities.batch_size(kind) == 1 for kind in Lookup)


async def test_lookup_by_id_dedups_and_maps(adapter: ChartMogulAdapter, app: Starlette) -> None:
    found = await adapter.lookup(Lookup.ID, [ADA, UNKNOWN, f" {ADA} ", GRACE])

    assert [[r.id for r in rs] for rs in found] == [[ADA], [], [ADA], [GRACE]]
    assert sorted(e.path for e in log(app)) == sorted(
        f"/v1/customers/{u}" for u in (ADA, UNKNOWN, GRACE)
    )
    ada = found[0][0]
    assert ada.provider == "chartmogul" and ada.raw["external_id"] == "cus_4Z2ZpyJFuQ0XMb"
    assert (ada.name, ada.email, ada.company) == ("Ada Lovelace", "Ada@Example.com", None)
    assert ada.address == Address(city="London", postal_code="N1", country="GB")
    assert ada.currency is None  # the account's reporting currency only labels the metrics
    assert ada.created_at == datetime(2023, 6, 9, 17, 16, tzinfo=UTC)
    assert ada.status == "Active"
    assert ada.metrics == {"mrr": Money(3000, "usd"), "arr": Money(36000, "usd")}
    assert found[3][0].created_at is None and found[3][0].address is None


async def test_lookup_by_email_dedups_by_casefold(
    adapter: ChartMogulAdapter, app: Starlette
) -> None:
    found = await adapter.lookup(Lookup.EMAIL, ["ada@example.com", " ADA@example.COM ", "x@y.z"])

    assert [[r.id for r in rs] for rs in found] == [[ADA], [ADA], []]
    assert len(log(app)) == 2  # one search per distinct address; the miss is a 404
    assert {query(e)["email"][0].casefold() for e in log(app)} == {"ada@example.com", "x@y.z"}
    assert [e.status for e in log(app)].count(404) == 1


async def test_lookup_by_email_follows_the_cursor(make: Make) -> None:
    many = create_app([{"external_id": f"e{n}", "email": "team@acme.io"} for n in range(203)])
    found = await make(on=many).lookup(Lookup.EMAIL, ["team@acme.io"])

    assert len(found[0]) == 203 and len({r.id for r in found[0]}) == 203
    requests = log(many)
    assert len(requests) == 2
    assert "cursor" not in query(requests[0]) and query(requests[1])["cursor"]
    assert query(requests[1])["per_page"] == ["200"]


async def test_lookup_by_stripe_id(adapter: ChartMogulAdapter, app: Starlette) -> None:
    found = await adapter.lookup(
        Lookup.STRIPE_ID, ["cus_4Z2ZpyJFuQ0XMb", GRACE, "cus_missing", "cus_4Z2ZpyJFuQ0XMb"]
    )

    assert [[r.id for r in rs] for rs in found] == [[ADA], [], [], [ADA]]
    # the ChartMogul uuid is never sent as a Stripe id; duplicates are asked once
    assert [query(e)["external_id"] for e in log(app)] == [
        ["cus_4Z2ZpyJFuQ0XMb"],
        ["cus_missing"],
    ]


async def test_lookup_by_stripe_id_finds_merged_records(
    adapter: ChartMogulAdapter, app: Starlette
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://cm", auth=("sandbox", "")
    ) as client:
        merge = await client.post(
            "/v1/customers/merges",
            json={"from": {"customer_uuid": GRACE}, "into": {"customer_uuid": ADA}},
        )
    assert merge.status_code == 202
    found = await adapter.lookup(Lookup.STRIPE_ID, ["grace-1"])
    assert [r.id for r in found[0]] == [ADA]
    assert found[0][0].raw["external_ids"] == ["cus_4Z2ZpyJFuQ0XMb", "grace-1"]
    assert await adapter.lookup(Lookup.ID, [GRACE]) == [[]]


async def test_unsupported_lookup(adapter: ChartMogulAdapter) -> None:
    with pytest.raises(NotImplementedError):
        await adapter.lookup(Lookup.EXTERNAL_ID, ["x"])


async def test_list_page_walks_every_record(make: Make) -> None:
    five = create_app([{"external_id": f"e{n}"} for n in range(5)])
    adapter = make(on=five)
    seen = [r.raw["external_id"] for r in await walk_pages(adapter, 2, max_pages=5)]
    assert seen == [f"e{n}" for n in range(5)]
    assert len(log(five)) == 3
    await adapter.list_page(None, 5000)
    assert query(log(five)[-1])["per_page"] == ["200"]


async def test_create_uses_the_stripe_id_as_external_id(
    adapter: ChartMogulAdapter, app: Starlette
) -> None:
    record = await adapter.create(
        CustomerWrite(
            name="Linus",
            email="linus@kernel.org",
            company="Linux",
            address=Address(line1="ignored", city="Portland", state="OR", country="us"),
            stripe_id="cus_NewStripe1",
            external_id="company-9",
            data_source_uuid=DEFAULT_DATA_SOURCE_UUID,
            phone="+1 555",
        )
    )

    assert record.id.startswith("cus_") and record.raw["external_id"] == "cus_NewStripe1"
    assert (record.name, record.email, record.company) == ("Linus", "linus@kernel.org", "Linux")
    assert record.address == Address(city="Portland", state="OR", country="US")
    (request,) = log(app)
    assert (request.method, request.path, request.status) == ("POST", "/v1/customers", 201)
    assert json.loads(request.body) == {
        "data_source_uuid": DEFAULT_DATA_SOURCE_UUID,
        "external_id": "cus_NewStripe1",
        "name": "Linus",
        "email": "linus@kernel.org",
        "company": "Linux",
        "city": "Portland",
        "state": "OR",
        "country": "US",
    }
    assert "idempotency-key" not in request.headers
    assert (await adapter.lookup(Lookup.STRIPE_ID, ["cus_NewStripe1"]))[0][0].id == record.id


async def test_create_errors(adapter: ChartMogulAdapter, app: Starlette) -> None:
    with pytest.raises(ProviderError) as missing:
        await adapter.create(CustomerWrite(name="No source", external_id="x"))
    assert (
        missing.value.kind is ErrorKind.BAD_REQUEST and "data_source_uuid" in missing.value.message
    )
    assert log(app) == []

    with pytest.raises(ProviderError) as duplicate:
        await adapter.create(
            CustomerWrite(
                name="Dup", external_id="grace-1", data_source_uuid=DEFAULT_DATA_SOURCE_UUID
            )
        )
    assert duplicate.value.kind is ErrorKind.BAD_REQUEST and duplicate.value.status == 422
    assert "already exists" in duplicate.value.message
    assert len(log(app)) == 1  # a create is never retried


async def test_update_patches_given_fields(adapter: ChartMogulAdapter, app: Starlette) -> None:
    record = await adapter.update(
        ADA, CustomerWrite(name="Countess", email=None, address=Address(city="Paris", country="FR"))
    )

    assert (record.name, record.email) == ("Countess", None)
    assert record.address == Address(city="Paris", country="FR")
    assert record.raw["address"]["country"] == "France"
    (request,) = log(app)
    assert (request.method, request.path) == ("PATCH", f"/v1/customers/{ADA}")
    assert json.loads(request.body) == {
        "name": "Countess",
        "email": "",
        "city": "Paris",
        "state": None,
        "country": "FR",
        "zip": None,
    }
    cleared = await adapter.update(ADA, CustomerWrite(address=None))
    assert cleared.address is None


async def test_update_unknown_customer(adapter: ChartMogulAdapter) -> None:
    with pytest.raises(ProviderError) as caught:
        await adapter.update(UNKNOWN, CustomerWrite(name="x"))
    assert caught.value.kind is ErrorKind.NOT_FOUND


async def test_delete(adapter: ChartMogulAdapter, app: Starlette) -> None:
    await adapter.delete(GRACE)
    assert await adapter.lookup(Lookup.ID, [GRACE]) == [[]]
    assert [(e.method, e.status) for e in log(app)] == [("DELETE", 204), ("GET", 404)]

    with pytest.raises(ProviderError) as refused:
        await adapter.delete(ADA)
    assert refused.value.kind is ErrorKind.BAD_REQUEST and refused.value.status == 422
    assert "only customers imported through the Import API" in refused.value.message


async def test_wrong_key_is_auth_and_never_leaks(make: Make, app: Starlette) -> None:
    secret = "sk_very_secret_value"
    adapter = make(ProviderSettings(name="chartmogul", base_url="http://cm", api_key=secret))
    with pytest.raises(ProviderError) as caught:
        await adapter.lookup(Lookup.ID, [ADA])
    assert caught.value.kind is ErrorKind.AUTH and caught.value.status == 401
    assert caught.value.message == "No valid API key provided"
    assert secret not in str(caught.value) and secret not in repr(caught.value)
    assert len(log(app)) == 1


async def test_rate_limit_then_success(adapter: ChartMogulAdapter, app: Starlette) -> None:
    simulator_state(app).set_faults(Faults(next_statuses=[429], retry_after=0))
    found = await adapter.lookup(Lookup.ID, [ADA])
    assert [r.id for r in found[0]] == [ADA]
    assert [e.status for e in log(app)] == [429, 200]


async def test_unavailable_burst(adapter: ChartMogulAdapter, app: Starlette) -> None:
    simulator_state(app).set_faults(Faults(next_statuses=[503, 503]))
    assert [r.id for r in (await adapter.lookup(Lookup.ID, [ADA]))[0]] == [ADA]
    assert [e.status for e in log(app)] == [503, 503, 200]

    simulator_state(app).log.clear()
    simulator_state(app).set_faults(Faults(next_statuses=[503, 503, 503, 503]))
    with pytest.raises(ProviderError) as caught:
        await adapter.lookup(Lookup.ID, [ADA])
    assert caught.value.kind is ErrorKind.UNAVAILABLE and caught.value.status == 503
    assert len(log(app)) == 3  # one try plus max_retries=2


async def test_malformed_json_is_bad_response(adapter: ChartMogulAdapter, app: Starlette) -> None:
    simulator_state(app).set_faults(Faults(malformed_next=1))
    with pytest.raises(ProviderError) as caught:
        await adapter.list_page(None, 10)
    assert caught.value.kind is ErrorKind.BAD_RESPONSE
    assert len(log(app)) == 1


def _response(status: int, body: Any) -> Answer:
    if isinstance(body, bytes):
        return answer(status, content=body)
    return answer(status, body)


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (
            {"code": 400, "message": 'Parameter "page" is deprecated', "param": "page"},
            None,
            'Parameter "page" is deprecated (param: page)',
        ),
        (
            {
                "error": "Invoice not found",
                "error_details": [{"param": "invoice", "code": "invalid", "message": "x"}],
            },
            "invalid",
            "Invoice not found (param: invoice)",
        ),
        ({"error": "Customer not found"}, None, "Customer not found"),
        (
            {"errors": {"external_id": "has already been taken", "name": "can't be blank"}},
            "validation_errors",
            "external_id: has already been taken; name: can't be blank",
        ),
        (b"<html>502 Bad Gateway</html>", None, "<html>502 Bad Gateway</html>"),
        (b"", None, None),
        ([1, 2], None, None),
    ],
)
def test_parse_error_reads_every_observed_shape(
    body: Any, code: str | None, message: str | None
) -> None:
    parsed = parse_error(_response(400, body))
    assert (parsed.code, parsed.message) == (code, message)


async def test_patch_and_delete_retry_only_under_an_idempotency_key(
    adapter: ChartMogulAdapter, app: Starlette
) -> None:
    simulator_state(app).set_faults(Faults(next_statuses=[503]))
    with pytest.raises(ProviderError) as unkeyed:
        await adapter.update(GRACE, CustomerWrite(name="Once"))
    assert unkeyed.value.kind is ErrorKind.UNAVAILABLE
    assert [(e.method, e.status) for e in log(app)] == [("PATCH", 503)]

    log(app).clear()
    simulator_state(app).set_faults(Faults(next_statuses=[503]))
    record = await adapter.update(GRACE, CustomerWrite(name="Twice"), idempotency_key="k1")
    assert record.name == "Twice"
    assert [(e.method, e.status) for e in log(app)] == [("PATCH", 503), ("PATCH", 200)]

    log(app).clear()
    simulator_state(app).set_faults(Faults(next_statuses=[503]))
    with pytest.raises(ProviderError):
        await adapter.delete(GRACE)
    assert [(e.method, e.status) for e in log(app)] == [("DELETE", 503)]

    log(app).clear()
    simulator_state(app).set_faults(Faults(next_statuses=[503]))
    await adapter.delete(GRACE, idempotency_key="k2")
    assert [(e.method, e.status) for e in log(app)] == [("DELETE", 503), ("DELETE", 204)]
    # ChartMogul has no idempotency keys: the key is never sent upstream.
    assert all("idempotency-key" not in e.headers for e in log(app))


# -- answers the simulator never gives (tiny fake apps) ---------------------------------------


def customer(uuid: str, name: str = "Someone") -> dict[str, Any]:
    return {"uuid": uuid, "external_id": f"ext-{uuid[-4:]}", "name": name, "email": "t@acme.io"}


UUIDS = [f"cus_00000000-0000-4000-8000-00000000000{n}" for n in range(4)]


def paged_search(
    pages: dict[str | None, tuple[list[int], str | None]],
) -> tuple[Starlette, list[str | None]]:
    """A search route answering ``pages[cursor]``: entry numbers and the next cursor; it
    records the cursor of every call."""
    cursors: list[str | None] = []

    async def search(request: Request) -> Response:
        cursor = request.query_params.get("cursor")
        cursors.append(cursor)
        entries, next_cursor = pages[cursor]
        body = {
            "entries": [customer(UUIDS[n]) for n in entries],
            "has_more": next_cursor is not None,
            "cursor": next_cursor,
        }
        return JSONResponse(body)

    return Starlette(routes=[Route("/v1/customers/search", search)]), cursors


async def test_a_repeating_cursor_is_a_bad_response(make: Make) -> None:
    fake, cursors = paged_search({None: ([0], "again"), "again": ([0], "again")})
    with pytest.raises(ProviderError) as caught:
        await make(on=fake).lookup(Lookup.EMAIL, ["t@acme.io"])
    assert caught.value.kind is ErrorKind.BAD_RESPONSE
    assert "cursor 'again' again" in caught.value.message
    assert cursors == [None, "again"]  # stopped at the first repeat, not after 50 pages


async def test_a_cursor_cycle_is_refused_too(make: Make) -> None:
    fake, cursors = paged_search({None: ([0], "c1"), "c1": ([1], "c2"), "c2": ([2], "c1")})
    with pytest.raises(ProviderError) as caught:
        await make(on=fake).lookup(Lookup.EMAIL, ["t@acme.io"])
    assert "cursor 'c1' again" in caught.value.message
    assert cursors == [None, "c1", "c2"]


async def test_one_lookup_never_returns_a_uuid_twice(make: Make) -> None:
    fake, cursors = paged_search({None: ([0, 1], "c1"), "c1": ([1, 2, 0], None)})
    [found] = await make(on=fake).lookup(Lookup.EMAIL, ["t@acme.io"])
    assert [r.id for r in found] == UUIDS[:3]
    assert cursors == [None, "c1"]


@pytest.mark.parametrize("status", [200, 204])
async def test_an_empty_update_answer_is_read_back(make: Make, status: int) -> None:
    calls: list[tuple[str, str]] = []
    stored = customer(GRACE, "Before")

    async def one(request: Request) -> Response:
        calls.append((request.method, request.url.path))
        if request.method == "PATCH":
            stored.update(await request.json())
            return Response(b"", status_code=status)
        return JSONResponse(stored)

    fake = Starlette(routes=[Route("/v1/customers/{uuid}", one, methods=["GET", "PATCH"])])
    record = await make(on=fake).update(GRACE, CustomerWrite(name="After"))
    assert (record.id, record.name) == (GRACE, "After")
    assert calls == [("PATCH", f"/v1/customers/{GRACE}"), ("GET", f"/v1/customers/{GRACE}")]
