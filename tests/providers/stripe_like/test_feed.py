"""The Stripe and Tofupay change feeds (``ChangeFeed.events``) against their simulators, with
the exact upstream calls each read costs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import httpx
import pytest
from starlette.applications import Starlette

from gateway.errors import ErrorKind, ProviderError
from gateway.model import ChangeKind
from gateway.providers.contract import ChangeFeed
from gateway.providers.stripe.adapter import StripeAdapter
from gateway.providers.stripe.simulator import create_app as stripe_app
from gateway.providers.stripe_like.adapter import StripeLikeAdapter
from gateway.providers.tofupay.adapter import TofupayAdapter
from gateway.providers.tofupay.simulator import create_app as tofupay_app
from tests.conftest import AdapterFactory, fast_settings, request_log

KEY = "sk_test_sandbox"
CASES = [(StripeAdapter, stripe_app), (TofupayAdapter, tofupay_app)]
TYPES = [
    ("types[]", "customer.created"),
    ("types[]", "customer.updated"),
    ("types[]", "customer.deleted"),
]


def feed(
    adapter_factory: AdapterFactory,
    adapter_class: type[StripeLikeAdapter],
    app: Starlette,
) -> StripeLikeAdapter:
    settings = fast_settings(adapter_class.name, "http://sim", KEY)
    return adapter_factory(adapter_class, app, settings)


async def write(app: Starlette, count: int) -> list[str]:
    """``count`` customers created, the first updated and the second deleted (count+2 events)."""
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://s", headers=headers) as c:
        ids = [
            (await c.post("/v1/customers", data={"email": f"c{i}@x.io"})).json()["id"]
            for i in range(count)
        ]
        await c.post(f"/v1/customers/{ids[0]}", data={"email": "changed@x.io"})
        await c.delete(f"/v1/customers/{ids[1]}")
    return ids


def queries(app: Starlette) -> list[list[tuple[str, str]]]:
    return [parse_qsl(entry.query) for entry in request_log(app)]


@pytest.mark.parametrize(("adapter_class", "make_app"), CASES, ids=["stripe", "tofupay"])
async def test_reads_forward_from_the_oldest_event_one_call_per_page(
    adapter_factory: AdapterFactory,
    adapter_class: type[StripeLikeAdapter],
    make_app: Callable[..., Starlette],
) -> None:
    app = make_app()
    ids = await write(app, 3)
    request_log(app).clear()
    adapter = feed(adapter_factory, adapter_class, app)
    assert adapter.capabilities.change_feed and isinstance(adapter, ChangeFeed)

    first = await adapter.events(None, 2)
    # No cursor: one walk to the end of the list (5 events fit one page of 100).
    assert queries(app) == [[*TYPES, ("limit", "100")]]
    assert [(e.kind, e.record.id) for e in first.events] == [
        (ChangeKind.CREATED, ids[0]),
        (ChangeKind.CREATED, ids[1]),
    ]
    assert first.has_more is True and first.cursor == first.events[-1].event_id
    event = first.events[0]
    assert event.provider == adapter_class.name
    assert event.record.email == "c0@x.io" and not event.record.deleted
    assert event.occurred_at.tzinfo is UTC
    assert event.occurred_at <= datetime.now(UTC)

    request_log(app).clear()
    second = await adapter.events(first.cursor, 2)
    assert queries(app) == [[*TYPES, ("limit", "2"), ("ending_before", first.cursor)]]
    assert [(e.kind, e.record.id) for e in second.events] == [
        (ChangeKind.CREATED, ids[2]),
        (ChangeKind.UPDATED, ids[0]),
    ]
    assert second.events[1].record.email == "changed@x.io"

    third = await adapter.events(second.cursor, 2)
    [deleted] = third.events
    assert (deleted.kind, deleted.record.id, deleted.record.deleted) == (
        ChangeKind.DELETED,
        ids[1],
        True,
    )
    assert third.has_more is False
    request_log(app).clear()
    empty = await adapter.events(third.cursor, 2)
    assert (empty.events, empty.cursor, empty.has_more) == ([], None, False)
    assert len(request_log(app)) == 1


async def test_the_first_read_walks_every_page_to_the_oldest(
    adapter_factory: AdapterFactory,
) -> None:
    app = stripe_app()
    ids = await write(app, 199)  # 201 events: three pages of 100
    request_log(app).clear()
    adapter = feed(adapter_factory, StripeAdapter, app)
    page = await adapter.events(None, 100)
    assert len(request_log(app)) == 3
    assert [e.record.id for e in page.events] == ids[:100]
    assert page.has_more is True


async def test_a_cursor_no_longer_listed_is_a_bad_request(
    adapter_factory: AdapterFactory,
) -> None:
    adapter = feed(adapter_factory, StripeAdapter, stripe_app())
    with pytest.raises(ProviderError) as caught:
        await adapter.events("evt_expired", 10)
    assert caught.value.kind is ErrorKind.BAD_REQUEST
