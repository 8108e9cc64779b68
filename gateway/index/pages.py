"""``customers(first, after, filter, orderBy)`` from the index: filters, order, keyset cursors.

The order is total: (value missing, value, customer id), with customers lacking the value
(no name, no known MRR or creation time) last in both directions, and the id breaking ties,
so no customer shows twice and none is skipped while the order's values hold still. The cursor
is the last row's key (opaque base64 JSON naming the order it belongs to), so a page costs one
indexed range query however deep it is.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any, Final

import sqlalchemy as sa

from gateway.index.contract import (
    CustomerFilter,
    CustomerOrder,
    InvalidIndexCursor,
    OrderField,
    PageQuery,
)
from gateway.index.tables import UTCDateTime, customers, records

__all__ = ["Key", "decode_cursor", "encode_cursor", "page_select"]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_COLUMNS: Final[dict[OrderField, Any]] = {
    OrderField.CREATED: (customers.c.created_at, sa.literal(_EPOCH, UTCDateTime)),
    OrderField.NAME: (customers.c.name_key, sa.literal("")),
    OrderField.MRR: (customers.c.mrr, sa.literal(0, sa.BigInteger)),
}

Key = tuple[int, Any, str]
"""(missing, value, customer id) of a row in the page's order."""


def _value(order: CustomerOrder) -> tuple[Any, Any]:
    column, filler = _COLUMNS[order.field]
    missing = sa.case((column.is_(None), 1), else_=0)
    return missing, sa.func.coalesce(column, filler)


def encode_cursor(order: CustomerOrder, key: Key) -> str:
    missing, value, customer_id = key
    shown = value.isoformat() if isinstance(value, datetime) else value
    data = [order.field.value, order.descending, missing, shown, customer_id]
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def decode_cursor(order: CustomerOrder, cursor: str) -> Key:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        field, descending, missing, value, customer_id = json.loads(text)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidIndexCursor("not a cursor of this list") from exc
    if field != order.field.value or descending != order.descending:
        raise InvalidIndexCursor("the cursor belongs to another order")
    if not isinstance(missing, int) or not isinstance(customer_id, str):
        raise InvalidIndexCursor("not a cursor of this list")
    expected = {OrderField.CREATED: str, OrderField.NAME: str, OrderField.MRR: int}[order.field]
    if not isinstance(value, expected) or isinstance(value, bool):
        raise InvalidIndexCursor("not a cursor of this list")
    if order.field is OrderField.CREATED:
        try:
            value = datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise InvalidIndexCursor("not a cursor of this list") from exc
    return (missing, value, customer_id)


def _after(order: CustomerOrder, key: Key) -> sa.ColumnElement[bool]:
    """Rows strictly after ``key``: missing ascending, then value and id in the order's way."""
    missing, value = _value(order)
    last_missing, last_value, last_id = key

    def beyond(column: Any, bound: Any) -> sa.ColumnElement[bool]:
        return sa.and_(column < bound) if order.descending else sa.and_(column > bound)

    return sa.or_(
        missing > last_missing,
        sa.and_(
            missing == last_missing,
            sa.or_(
                beyond(value, last_value),
                sa.and_(value == last_value, beyond(customers.c.id, last_id)),
            ),
        ),
    )


def _has_record(provider: str | None = None, email: str | None = None) -> sa.Exists:
    query = sa.select(records.c.provider).where(
        records.c.customer_id == customers.c.id, records.c.deleted.is_(False)
    )
    if provider is not None:
        query = query.where(records.c.provider == provider)
    if email is not None:
        query = query.where(records.c.email == email)
    return query.exists()


def _where(found: CustomerFilter, email: str | None) -> list[sa.ColumnElement[bool]]:
    """``email``: the filter's email in matching form (the caller normalises it)."""
    c = customers.c
    out: list[sa.ColumnElement[bool]] = []
    if found.email is not None:
        out.append(_has_record(email=email) if email is not None else sa.false())
    if found.text:
        text = found.text.casefold()
        out.append(
            sa.or_(
                c.name_key.contains(text, autoescape=True),
                c.company_key.contains(text, autoescape=True),
            )
        )
    out += [_has_record(provider=p) for p in sorted(found.providers or ())]
    out += [~_has_record(provider=p) for p in sorted(found.without_providers or ())]
    if found.country is not None:
        out.append(c.country == found.country.upper())
    if found.status is not None:
        out.append(c.status == found.status)
    if found.created_from is not None:
        out.append(c.created_at >= found.created_from)
    if found.created_to is not None:
        out.append(c.created_at <= found.created_to)
    if found.mrr_min is not None:
        out.append(c.mrr >= found.mrr_min)
    if found.mrr_max is not None:
        out.append(c.mrr <= found.mrr_max)
    return out


def page_select(query: PageQuery, email: str | None) -> sa.Select[Any]:
    """``first + 1`` rows of (id, missing, value) after the cursor: one more than the page, so
    the caller knows whether another page follows. Ranges are inclusive at both ends."""
    order = query.order
    missing, value = _value(order)
    select = sa.select(customers.c.id, missing.label("missing"), value.label("value")).where(
        *_where(query.filter, email)
    )
    if query.after is not None:
        select = select.where(_after(order, decode_cursor(order, query.after)))
    direction = sa.desc if order.descending else sa.asc
    return select.order_by(missing.asc(), direction(value), direction(customers.c.id)).limit(
        query.first + 1
    )
