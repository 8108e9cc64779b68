"""``page``: each filter, each order both ways, keyset cursors without repeats or gaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.identity import encode_customer_id
from gateway.index import (
    ChangeSource,
    CustomerFilter,
    CustomerOrder,
    InvalidIndexCursor,
    OrderField,
    PageQuery,
    RecordChange,
    SQLIndex,
)
from gateway.model import Address, CustomerRecord, Metric, Money
from tests.identity.test_resolver import cm, lago, stripe, tofu

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def at(days: int) -> datetime:
    return T0 + timedelta(days=days)


def change(record: CustomerRecord) -> RecordChange:
    return RecordChange(record, T0, ChangeSource.BACKFILL)


ANN = [
    stripe(
        "cus_ann",
        email="ann@x.com",
        name="Ann Lee",
        company="Acme",
        address=Address(country="gb"),
        created_at=at(1),
    ),
    cm(
        "cus_00000000-0000-0000-0000-000000000001",
        email="ann@x.com",
        status="active",
        metrics={Metric.MRR: Money(5000, "usd")},
    ),
]
BOB = [
    lago("bob", email="bob@x.com", name="bob stone", company="Bricks", created_at=at(2)),
    cm(
        "cus_00000000-0000-0000-0000-000000000002",
        email="bob@x.com",
        status="past_due",
        metrics={Metric.MRR: Money(900, "usd")},
    ),
]
CY = [tofu("cy", email="cy@x.com", name="Cy", address=Address(country="FR"), created_at=at(3))]
NONAME = [tofu("zz", email="zz@x.com")]  # no name, no creation time, no MRR

IDS = {
    "ann": encode_customer_id(ANN[0].ref),
    "bob": encode_customer_id(BOB[0].ref),
    "cy": encode_customer_id(CY[0].ref),
    "zz": encode_customer_id(NONAME[0].ref),
}
NAMES = {v: k for k, v in IDS.items()}


@pytest.fixture
async def filled(index: SQLIndex) -> SQLIndex:
    await index.apply([change(r) for r in (*ANN, *BOB, *CY, *NONAME)])
    return index


async def names(index: SQLIndex, query: PageQuery) -> list[str]:
    page = await index.page(query)
    return [NAMES[c.id] for c in page.customers]


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        (CustomerFilter(email=" ANN@x.com"), ["ann"]),
        (CustomerFilter(email="nobody@x.com"), []),
        (CustomerFilter(text="ST"), ["bob"]),  # name "bob stone"
        (CustomerFilter(text="acm"), ["ann"]),  # company
        (CustomerFilter(text="100%"), []),  # LIKE wildcards are literal
        (CustomerFilter(providers=frozenset({"chartmogul"})), ["ann", "bob"]),
        (CustomerFilter(providers=frozenset({"chartmogul", "stripe"})), ["ann"]),
        (CustomerFilter(without_providers=frozenset({"chartmogul"})), ["cy", "zz"]),
        (CustomerFilter(country="gb"), ["ann"]),
        (CustomerFilter(status="past_due"), ["bob"]),
        (CustomerFilter(created_from=at(2)), ["bob", "cy"]),
        (CustomerFilter(created_to=at(2)), ["ann", "bob"]),
        (CustomerFilter(mrr_min=1000), ["ann"]),
        (CustomerFilter(mrr_max=1000), ["bob"]),
        (CustomerFilter(mrr_min=900, mrr_max=5000, country="GB"), ["ann"]),
    ],
)
async def test_each_filter(filled: SQLIndex, criteria: CustomerFilter, expected: list[str]) -> None:
    order = CustomerOrder(OrderField.NAME, descending=False)
    assert await names(filled, PageQuery(first=10, filter=criteria, order=order)) == expected


@pytest.mark.parametrize(
    ("field", "descending", "expected"),
    [
        (OrderField.CREATED, True, ["cy", "bob", "ann", "zz"]),
        (OrderField.CREATED, False, ["ann", "bob", "cy", "zz"]),
        (OrderField.NAME, False, ["ann", "bob", "cy", "zz"]),
        (OrderField.NAME, True, ["cy", "bob", "ann", "zz"]),
        (OrderField.MRR, True, ["ann", "bob", *sorted(["cy", "zz"], key=IDS.get, reverse=True)]),
        (OrderField.MRR, False, ["bob", "ann", *sorted(["cy", "zz"], key=IDS.get)]),
    ],
)
async def test_orders_put_missing_values_last(
    filled: SQLIndex, field: OrderField, descending: bool, expected: list[str]
) -> None:
    query = PageQuery(first=10, order=CustomerOrder(field, descending))
    assert await names(filled, query) == expected


@pytest.mark.parametrize("field", list(OrderField))
@pytest.mark.parametrize("descending", [True, False])
async def test_cursors_walk_every_customer_once_under_ties(
    index: SQLIndex, field: OrderField, descending: bool
) -> None:
    # 23 customers, most sharing a name, a creation time and an MRR: ties everywhere.
    crowd = [
        tofu(
            f"t{i:02d}",
            email=f"p{i}@x.com",
            name="Same" if i % 3 else None,
            created_at=at(i % 2) if i % 5 else None,
            metrics={Metric.MRR: Money(100 * (i % 2), "usd")} if i % 4 else {},
        )
        for i in range(23)
    ]
    await index.apply([change(r) for r in crowd])
    order = CustomerOrder(field, descending)
    everyone = [c.id for c in (await index.page(PageQuery(first=100, order=order))).customers]

    walked: list[str] = []
    after: str | None = None
    for _ in range(10):
        page = await index.page(PageQuery(first=4, after=after, order=order))
        walked += [c.id for c in page.customers]
        after = page.end_cursor
        if not page.has_next_page:
            break
    assert walked == everyone
    assert len(set(walked)) == 23


async def test_the_last_page_says_so_and_an_empty_index_has_no_cursor(index: SQLIndex) -> None:
    empty = await index.page(PageQuery(first=5))
    assert (list(empty.customers), empty.end_cursor, empty.has_next_page) == ([], None, False)
    await index.apply([change(r) for r in CY])
    page = await index.page(PageQuery(first=1))
    assert len(page.customers) == 1 and not page.has_next_page


async def test_a_cursor_of_another_order_or_garbage_is_refused(filled: SQLIndex) -> None:
    page = await filled.page(PageQuery(first=1, order=CustomerOrder(OrderField.NAME)))
    assert page.end_cursor is not None
    with pytest.raises(InvalidIndexCursor):
        await filled.page(PageQuery(first=1, after=page.end_cursor, order=CustomerOrder()))
    with pytest.raises(InvalidIndexCursor):
        await filled.page(PageQuery(first=1, after="not a cursor"))


async def test_a_negative_page_size_is_refused(index: SQLIndex) -> None:
    with pytest.raises(ValueError, match="first"):
        await index.page(PageQuery(first=-1))
