"""A page of customers: from the identity index once every provider is synced, else the
primary provider's listing, each record merged with the rest.

From the index, the page spans every provider (a customer only in ChartMogul is listed too),
can be filtered and ordered, and its cursors are the index's. Before that, cursors wrap the
upstream page cursor plus an offset into that page, so any edge can be resumed from, whatever
the provider's cursor style (ids, opaque tokens, page numbers).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from dataclasses import dataclass
from typing import Final

from gateway.core.context import RequestContext
from gateway.core.found import FoundCustomer
from gateway.core.graph import IdentityGraph
from gateway.core.graph_reads import from_index
from gateway.core.lookups import find, require_provider
from gateway.errors import ErrorCode, InvalidInput, ProviderError, ProviderFailed
from gateway.index import CustomerFilter, CustomerOrder, InvalidIndexCursor, PageQuery

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "CustomerPage",
    "customers_page",
    "decode_cursor",
    "encode_cursor",
]

MAX_PAGE_SIZE: Final = 100
DEFAULT_PAGE_SIZE: Final = 20


@dataclass(frozen=True, slots=True)
class CustomerPage:
    customers: list[FoundCustomer]
    cursors: list[str]
    next_cursor: str | None
    degraded: dict[str, ProviderError]


def encode_cursor(provider: str, upstream: str | None, offset: int = 0) -> str:
    payload = json.dumps({"v": 1, "p": provider, "c": upstream, "o": offset}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, provider: str) -> tuple[str | None, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        if not isinstance(data, dict) or data.get("v") != 1:
            raise ValueError("unknown cursor version")
        upstream = data["c"]
        offset = int(data.get("o", 0))
        if upstream is not None and not isinstance(upstream, str):
            raise ValueError("bad upstream cursor")
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(f"invalid cursor {cursor!r}", ErrorCode.INVALID_CURSOR) from None
    if data.get("p") != provider:
        raise InvalidInput(
            f"cursor {cursor!r} belongs to a listing of {data.get('p')!r}, not {provider!r}",
            ErrorCode.INVALID_CURSOR,
        )
    return upstream, offset


async def customers_page(
    ctx: RequestContext,
    first: int,
    after: str | None,
    *,
    filter: CustomerFilter | None = None,
    order: CustomerOrder | None = None,
) -> CustomerPage:
    """A page of customers (see the module docstring for where it comes from)."""
    if first < 0 or first > MAX_PAGE_SIZE:
        raise InvalidInput(f"first must be between 0 and {MAX_PAGE_SIZE}, got {first}")
    graph = ctx.graph
    if graph is not None and await graph.synced(ctx.adapters):
        query = PageQuery(first, after, filter or CustomerFilter(), order or CustomerOrder())
        return await _indexed_page(ctx, graph, query)
    if filter is not None or order is not None:
        pending = await graph.pending(ctx.adapters) if graph is not None else sorted(ctx.adapters)
        raise InvalidInput(
            "filtering and ordering customers needs the identity index, and "
            f"{', '.join(pending)} {'is' if len(pending) == 1 else 'are'} not synced into it "
            "yet (see /healthz)",
            ErrorCode.NOT_SYNCED,
        )
    return await _primary_page(ctx, first, after)


async def _indexed_page(
    ctx: RequestContext, graph: IdentityGraph, query: PageQuery
) -> CustomerPage:
    """The index's page, every member record fetched by id in one wave."""
    if query.first == 0:
        return CustomerPage([], [], query.after, {})
    try:
        page = await graph.guarded(graph.index.page(query), None)
    except InvalidIndexCursor as exc:
        raise InvalidInput(str(exc), ErrorCode.INVALID_CURSOR, path=("after",)) from None
    if page is None:
        raise InvalidInput(
            "the identity index is unavailable; customers cannot be listed from it now",
            ErrorCode.NOT_SYNCED,
        )
    found = await from_index(ctx, graph, page.customers, strict=False)
    customers: list[FoundCustomer] = []
    cursors: list[str] = []
    for customer, cursor in zip(found, page.cursors, strict=True):
        if customer is not None:
            customers.append(customer)
            cursors.append(cursor)
    next_cursor = page.end_cursor if page.has_next_page else None
    return CustomerPage(customers, cursors, next_cursor, dict(ctx.degraded))


async def _primary_page(ctx: RequestContext, first: int, after: str | None) -> CustomerPage:
    """A page of the primary provider's customers, each merged with every other provider."""
    primary = ctx.settings.primary_provider
    require_provider(ctx, primary)
    adapter = ctx.adapters[primary]
    if not adapter.capabilities.list_page:
        raise InvalidInput(f"the primary provider {primary!r} cannot list customers")
    upstream, offset = decode_cursor(after, primary) if after else (None, 0)
    if first == 0:
        return CustomerPage([], [], after, {})
    limit = min(offset + first, adapter.capabilities.max_page_size)
    try:
        page = await adapter.list_page(upstream, limit)
    except ProviderError as exc:
        ctx.note_degraded({primary: exc})
        raise ProviderFailed(exc) from None
    window = list(page.records[offset : offset + first])
    consumed = offset + len(window)
    if consumed < len(page.records):
        next_cursor: str | None = encode_cursor(primary, upstream, consumed)
    else:
        next_cursor = encode_cursor(primary, page.next_cursor) if page.next_cursor else None
    live = [(offset + i + 1, r) for i, r in enumerate(window) if not r.deleted]
    found = await asyncio.gather(*(find(ctx, seed=[record], want=record.ref) for _, record in live))
    customers: list[FoundCustomer] = []
    cursors: list[str] = []
    seen: set[str] = set()
    for (position, _), customer in zip(live, found, strict=True):
        if customer is None or customer.id in seen:
            continue  # two primary records of one customer (duplicates) show once
        seen.add(customer.id)
        customers.append(customer)
        at_page_end = position == len(page.records)
        if at_page_end and page.next_cursor:
            cursors.append(encode_cursor(primary, page.next_cursor))
        else:
            cursors.append(encode_cursor(primary, upstream, position))
    return CustomerPage(customers, cursors, next_cursor, dict(ctx.degraded))
