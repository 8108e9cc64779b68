"""A page of customers: the primary provider's listing, each record merged with the rest.

Cursors wrap the upstream page cursor plus an offset into that page, so any edge can be resumed
from, whatever the provider's cursor style (ids, opaque tokens, page numbers).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from dataclasses import dataclass
from typing import Final

from gateway.core.context import RequestContext
from gateway.core.lookups import FoundCustomer, find, require_provider
from gateway.errors import ErrorCode, InvalidInput, ProviderError, ProviderFailed

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


async def customers_page(ctx: RequestContext, first: int, after: str | None) -> CustomerPage:
    """A page of the primary provider's customers, each merged with every other provider."""
    if first < 0 or first > MAX_PAGE_SIZE:
        raise InvalidInput(f"first must be between 0 and {MAX_PAGE_SIZE}, got {first}")
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
