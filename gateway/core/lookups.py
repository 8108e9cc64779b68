"""Finding customers: turn a query's lookup into an expansion, merge, and pick the answer.

Resolvers stay thin and call these; data flows request -> resolver -> service -> dataloader ->
adapter -> httpx, one way.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.core.expansion import Key, expand, pick_customer
from gateway.errors import ProviderError
from gateway.identity import InvalidCustomerId, decode_customer_id, normalise_email, resolve
from gateway.model import CustomerRecord, Lookup, RecordRef
from resolvers.context import GatewayContext
from resolvers.customer import Customer
from resolvers.errors import (
    INVALID_CURSOR,
    INVALID_ID,
    PROVIDER_NOT_CONFIGURED,
    provider_error,
    user_error,
)

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


async def _find(
    ctx: GatewayContext,
    *,
    keys: Sequence[Key] = (),
    refs: Sequence[RecordRef] = (),
    seed: Sequence[CustomerRecord] = (),
    want: RecordRef | None = None,
    email: str | None = None,
) -> Customer | None:
    identity = ctx.settings.identity
    expansion = await expand(ctx.loaders, identity, keys=keys, refs=refs, seed=seed)
    ctx.note_degraded(expansion.errors)
    merged = resolve(expansion.records.values(), identity)
    chosen = pick_customer(merged, identity, want=want, email=email)
    if chosen is None:
        if expansion.errors and not expansion.records:
            # Nothing found and someone failed: "not found" would be a lie.
            raise provider_error(next(iter(expansion.errors.values())))
        return None
    return Customer.build(chosen, expansion.errors, expansion.truncated)


def _require_provider(ctx: GatewayContext, provider: str) -> None:
    if provider not in ctx.adapters:
        raise user_error(
            f"provider {provider!r} is not configured on this gateway",
            PROVIDER_NOT_CONFIGURED,
            provider=provider,
        )


async def customer_by_id(ctx: GatewayContext, customer_id: str) -> Customer | None:
    try:
        anchor = decode_customer_id(customer_id)
    except InvalidCustomerId as exc:
        raise user_error(f"invalid customer id: {exc}", INVALID_ID) from None
    _require_provider(ctx, anchor.provider)
    return await _find(ctx, refs=[anchor], want=anchor)


async def customer_by_provider_id(
    ctx: GatewayContext, provider: str, record_id: str
) -> Customer | None:
    _require_provider(ctx, provider)
    if not record_id.strip():
        raise user_error("id must not be blank")
    ref = RecordRef(provider, record_id.strip())
    return await _find(ctx, refs=[ref], want=ref)


async def customer_by_email(ctx: GatewayContext, email: str) -> Customer | None:
    normalised = normalise_email(email, ctx.settings.identity.placeholder_emails)
    if normalised is None:
        raise user_error(
            f"{email!r} is not an email the gateway can look up (blank, placeholder or no '@')"
        )
    return await _find(ctx, keys=[(Lookup.EMAIL, normalised)], email=normalised)


async def customer_by_linked_id(ctx: GatewayContext, by: Lookup, value: str) -> Customer | None:
    if not value.strip():
        raise user_error("value must not be blank")
    expansion_key: Key = (by, value.strip())
    identity = ctx.settings.identity
    expansion = await expand(ctx.loaders, identity, keys=[expansion_key])
    ctx.note_degraded(expansion.errors)
    merged = resolve(expansion.records.values(), identity)
    if not merged:
        if expansion.errors:
            raise provider_error(next(iter(expansion.errors.values())))
        return None
    # The customer holding a record that carries the linked id itself.
    from gateway.identity import expansion_lookups

    for customer in merged:
        if any(expansion_key in expansion_lookups(r, identity) for r in customer.records):
            return Customer.build(customer, expansion.errors, expansion.truncated)
    return None


@dataclass(frozen=True, slots=True)
class CustomerPage:
    customers: list[Customer]
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
        raise user_error(f"invalid cursor {cursor!r}", INVALID_CURSOR) from None
    if data.get("p") != provider:
        raise user_error(
            f"cursor {cursor!r} belongs to a listing of {data.get('p')!r}, not {provider!r}",
            INVALID_CURSOR,
        )
    return upstream, offset


async def customers_page(ctx: GatewayContext, first: int, after: str | None) -> CustomerPage:
    """A page of the primary provider's customers, each merged with every other provider.

    Cursors wrap the upstream page cursor plus an offset into that page, so any edge can be
    resumed from, whatever the provider's cursor style (ids, opaque tokens, page numbers).
    """
    if first < 0 or first > MAX_PAGE_SIZE:
        raise user_error(f"first must be between 0 and {MAX_PAGE_SIZE}, got {first}")
    primary = ctx.settings.primary_provider
    _require_provider(ctx, primary)
    adapter = ctx.adapters[primary]
    if not adapter.capabilities.list_page:
        raise user_error(f"the primary provider {primary!r} cannot list customers")
    upstream, offset = decode_cursor(after, primary) if after else (None, 0)
    if first == 0:
        return CustomerPage([], [], after, {})
    limit = min(offset + first, adapter.capabilities.max_page_size)
    try:
        page = await adapter.list_page(upstream, limit)
    except ProviderError as exc:
        ctx.note_degraded({primary: exc})
        raise provider_error(exc) from None
    window = list(page.records[offset : offset + first])
    consumed = offset + len(window)
    if consumed < len(page.records):
        next_cursor: str | None = encode_cursor(primary, upstream, consumed)
    else:
        next_cursor = encode_cursor(primary, page.next_cursor) if page.next_cursor else None
    live = [(offset + i + 1, r) for i, r in enumerate(window) if not r.deleted]
    found = await asyncio.gather(
        *(_find(ctx, seed=[record], want=record.ref) for _, record in live)
    )
    customers: list[Customer] = []
    cursors: list[str] = []
    seen: set[str] = set()
    for (position, _), customer in zip(live, found, strict=True):
        if customer is None or str(customer.id) in seen:
            continue  # two primary records of one customer (duplicates) show once
        seen.add(str(customer.id))
        customers.append(customer)
        at_page_end = position == len(page.records)
        cursors.append(
            (
                encode_cursor(primary, page.next_cursor)
                if page.next_cursor
                else encode_cursor(primary, upstream, position)
            )
            if at_page_end
            else encode_cursor(primary, upstream, position)
        )
    return CustomerPage(customers, cursors, next_cursor, dict(ctx.degraded))
