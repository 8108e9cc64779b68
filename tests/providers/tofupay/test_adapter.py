"""The Tofupay adapter against the in-process simulator, counting every upstream request."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, parse_qsl

import pytest
from starlette.applications import Starlette

from gateway.errors import ErrorKind, ProviderError
from gateway.model import CustomerWrite, Lookup, Money
from gateway.providers.contract import ProviderAdapter
from gateway.providers.tofupay.adapter import TofupayAdapter
from gateway.providers.tofupay.simulator import create_app
from gateway.sandbox.base import simulator_state
from gateway.sandbox.faults import Faults
from tests.conftest import AdapterFactory, fast_settings, walk_pages
from tests.conftest import request_log as _log

KEY = "sk_test_tofu_k3y_that_must_not_leak"
T0 = 1_421_056_271
RECORDS: list[dict[str, Any]] = [
    {
        "id": "cus_5V50idQJ7fxkRX",
        "email": "kif@hong.com",
        "description": "kif",
        "created": T0,
        "currency": "USD",
        "account_balance": 1500,
        "delinquent": True,
    },
    {"id": "cus_KIF2", "email": "KIF@hong.com", "created": T0 + 10},
    {"id": "cus_AMY", "email": "amy@wong.com", "created": T0 + 20, "currency": "eur"},
    *(
        {"id": f"cus_T{i:02d}", "email": f"t{i:02d}@example.com", "created": T0 + 30 + i}
        for i in range(8)
    ),
    {"id": "cus_GONE", "deleted": True},
]
SETTINGS = fast_settings("tofupay", "http://tofupay.sandbox", KEY)


@pytest.fixture
def app() -> Starlette:
    return create_app(RECORDS, api_key=KEY)


@pytest.fixture
def adapter(app: Starlette, adapter_factory: AdapterFactory) -> TofupayAdapter:
    return adapter_factory(TofupayAdapter, app, SETTINGS)


def _ids(results: list[list[Any]]) -> list[list[str]]:
    return [[record.id for record in found] for found in results]


def test_adapter_keeps_the_protocol() -> None:
    made = TofupayAdapter(SETTINGS)
    assert isinstance(made, ProviderAdapter)
    assert made.capabilities.lookups == {Lookup.ID, Lookup.EMAIL}
    assert made.capabilities.batch_size(Lookup.EMAIL) == 1
    assert made.capabilities.writable_fields == {"email", "description", "metadata"}
    # Tofupay documents only ``limit`` for its list: no ``created`` filter to window with.
    assert not made.capabilities.created_window
    assert KEY not in repr(made)
    assert "Stripe-Version" not in made.http.headers


async def test_lookup_by_id_maps_the_legacy_object(app: Starlette, adapter: TofupayAdapter) -> None:
    results = await adapter.lookup(
        Lookup.ID, ["cus_5V50idQJ7fxkRX", "cus_GONE", "cus_none", "cus_5V50idQJ7fxkRX", "a b"]
    )
    assert _ids(results) == [["cus_5V50idQJ7fxkRX"], [], [], ["cus_5V50idQJ7fxkRX"], []]
    record = results[0][0]
    assert record.provider == "tofupay"
    assert record.raw["sources"]["object"] == "list"
    assert (record.email, record.name, record.phone, record.address) == (
        "kif@hong.com",
        None,
        None,
        None,
    )
    assert record.currency == "usd"
    assert record.created_at == datetime.fromtimestamp(T0, UTC)
    assert record.status == "delinquent"
    assert record.metrics == {"balance": Money(1500, "usd")}
    assert len(_log(app)) == 3


async def test_lookup_by_email_is_one_list_call_per_distinct_email(
    app: Starlette, adapter: TofupayAdapter
) -> None:
    values = ["kif@hong.com", " Kif@Hong.com", "amy@wong.com", "zoidberg@example.com", ""]
    results = await adapter.lookup(Lookup.EMAIL, values)
    assert _ids(results) == [["cus_KIF2", "cus_5V50idQJ7fxkRX"]] * 2 + [["cus_AMY"], [], []]
    queries = sorted(parse_qs(e.query)["email"][0] for e in _log(app))
    assert queries == ["amy@wong.com", "kif@hong.com", "zoidberg@example.com"]
    assert all(e.path == "/v1/customers" and e.method == "GET" for e in _log(app))
    with pytest.raises(NotImplementedError):
        await adapter.lookup(Lookup.EXTERNAL_ID, ["co_1"])


async def test_list_page_walks_every_customer(app: Starlette, adapter: TofupayAdapter) -> None:
    seen = [r.id for r in await walk_pages(adapter, 4)]
    newest = [f"cus_T{i:02d}" for i in range(7, -1, -1)]
    assert seen == [*newest, "cus_AMY", "cus_KIF2", "cus_5V50idQJ7fxkRX"]
    assert len(_log(app)) == 3


async def test_create_update_delete(app: Starlette, adapter: TofupayAdapter) -> None:
    created = await adapter.create(
        CustomerWrite(
            email="leela@planetexpress.com",
            description="Captain",
            name="Leela",  # Tofupay has no name: not sent
            metadata={"ship": "PE"},
        ),
        idempotency_key="create-leela",
    )
    assert created.email == "leela@planetexpress.com" and created.name is None
    post = _log(app)[-1]
    assert post.headers["idempotency-key"] == "create-leela"
    assert parse_qsl(post.body) == [
        ("email", "leela@planetexpress.com"),
        ("description", "Captain"),
        ("metadata[ship]", "PE"),
    ]
    again = await adapter.create(
        CustomerWrite(
            email="leela@planetexpress.com", description="Captain", metadata={"ship": "PE"}
        ),
        idempotency_key="create-leela",
    )
    assert again.id == created.id

    updated = await adapter.update(
        created.id, CustomerWrite(description=None, metadata={"ship": ""}), idempotency_key="u1"
    )
    assert updated.raw["description"] is None and updated.raw["metadata"] == {}
    assert updated.email == "leela@planetexpress.com"
    assert _log(app)[-1].headers["idempotency-key"] == "u1"

    await adapter.delete(created.id)
    assert await adapter.lookup(Lookup.ID, [created.id]) == [[]]
    assert await adapter.lookup(Lookup.EMAIL, ["leela@planetexpress.com"]) == [[]]
    with pytest.raises(ProviderError) as info:
        await adapter.delete(created.id)
    assert info.value.kind is ErrorKind.NOT_FOUND


async def test_bad_key_is_an_auth_error_without_the_key(
    app: Starlette, adapter_factory: AdapterFactory
) -> None:
    wrong = "sk_test_tofu_wrong_secret_999"
    made = adapter_factory(TofupayAdapter, app, SETTINGS, api_key=wrong)
    with pytest.raises(ProviderError) as info:
        await made.list_page(None, 10)
    assert info.value.kind is ErrorKind.AUTH
    assert wrong not in str(info.value) and wrong not in repr(info.value)


async def test_rate_limit_is_retried_once(app: Starlette, adapter: TofupayAdapter) -> None:
    simulator_state(app).set_faults(Faults(next_statuses=[429], retry_after=0.0))
    results = await adapter.lookup(Lookup.EMAIL, ["amy@wong.com"])
    assert _ids(results) == [["cus_AMY"]]
    assert [e.status for e in _log(app)] == [429, 200]


async def test_bad_request_is_not_retried(app: Starlette, adapter: TofupayAdapter) -> None:
    with pytest.raises(ProviderError) as info:
        await adapter.update(
            "cus_AMY", CustomerWrite(email="not an email"), idempotency_key="u-bad"
        )
    assert info.value.kind is ErrorKind.BAD_REQUEST and info.value.status == 400
    assert info.value.code == "email_invalid"
    assert len(_log(app)) == 1
    assert KEY not in str(info.value)
