"""Finding one customer: turn a lookup into an expansion, merge, and pick the answer.

Data flows request -> resolver -> these services -> dataloader -> adapter -> httpx, one way.
Failures leave as domain errors (:class:`~gateway.errors.InvalidInput`,
:class:`~gateway.errors.ProviderFailed`); the GraphQL layer maps them in one place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from gateway.core.context import RequestContext
from gateway.core.expansion import Expansion, Key, expand, pick_customer
from gateway.core.found import FoundCustomer
from gateway.core.graph import IdentityGraph
from gateway.core.graph_reads import from_index
from gateway.errors import ErrorCode, InvalidInput, ProviderFailed
from gateway.identity import (
    MatchKey,
    MergedCustomer,
    expansion_lookups,
    normalise_email,
    resolve,
)
from gateway.index import IdentityIndex, IndexedCustomer
from gateway.inputs import MAX_EMAIL_LENGTH, MAX_ID_LENGTH, character_problem
from gateway.model import CustomerRecord, Lookup, RecordRef

__all__ = [
    "FoundCustomer",
    "customer_by_email",
    "customer_by_linked_id",
    "customer_by_provider_id",
    "find",
    "require_provider",
]


async def find(
    ctx: RequestContext,
    *,
    keys: Sequence[Key] = (),
    refs: Sequence[RecordRef] = (),
    seed: Sequence[CustomerRecord] = (),
    want: RecordRef | None = None,
    email: str | None = None,
    indexed: Sequence[IndexedCustomer] | None = None,
) -> FoundCustomer | None:
    """The customer the caller asked for: the index's answer (``indexed``, looked up by the
    caller) once every provider is synced, else a live expansion fed into the index."""
    if indexed and ctx.graph is not None:
        return (await from_index(ctx, ctx.graph, indexed[:1]))[0]
    identity = ctx.settings.identity
    expansion = await expand(ctx.loaders, identity, keys=keys, refs=refs, seed=seed)
    ctx.note_degraded(expansion.errors)
    merged = resolve(expansion.records.values(), identity)
    chosen = pick_customer(merged, identity, want=want, email=email)
    if chosen is None:
        if expansion.errors and not expansion.records:
            # Nothing found and someone failed: "not found" would be a lie.
            raise ProviderFailed(next(iter(expansion.errors.values())))
        return None
    return await _settle(ctx, expansion, chosen, want)


async def _settle(
    ctx: RequestContext, expansion: Expansion, chosen: MergedCustomer, want: RecordRef | None
) -> FoundCustomer | None:
    """A live answer handed to the index, then read back from it: the customer keeps the id
    it already has there, and members the index knows but the expansion did not reach (a
    provider down, a custom link namespace) are fetched by id."""
    graph = ctx.graph
    if graph is None:
        return FoundCustomer(chosen, expansion.errors, expansion.truncated)
    indexed = await graph.guarded(_fed(graph, expansion, want or chosen.anchor), None)
    if indexed is None:
        return FoundCustomer(chosen, expansion.errors, expansion.truncated)
    found = (await from_index(ctx, graph, [indexed]))[0]
    if found is None:
        return None
    errors = {**expansion.errors, **found.errors}
    return replace(found, errors=errors, truncated=expansion.truncated)


async def _fed(
    graph: IdentityGraph, expansion: Expansion, ref: RecordRef
) -> IndexedCustomer | None:
    """The index told what the expansion found; then the customer holding ``ref`` there."""
    await graph.repair(list(expansion.records.values()), [])
    return await graph.index.customer_of(ref)


def checked_value(value: str, argument: str, limit: int = MAX_ID_LENGTH) -> str:
    """A lookup argument trimmed, or :class:`InvalidInput` before any upstream call: blank,
    longer than any provider could hold, or holding control characters."""
    if len(value) > limit:
        raise InvalidInput(f"{argument} must be at most {limit} characters", path=(argument,))
    if problem := character_problem(value):
        raise InvalidInput(f"{argument} {problem}", path=(argument,))
    if not value.strip():
        raise InvalidInput(f"{argument} must not be blank", path=(argument,))
    return value.strip()


def require_provider(ctx: RequestContext, provider: str) -> None:
    if provider not in ctx.adapters:
        raise InvalidInput(
            f"provider {provider!r} is not configured on this gateway",
            ErrorCode.PROVIDER_NOT_CONFIGURED,
            provider=provider,
        )


async def customer_by_provider_id(
    ctx: RequestContext, provider: str, record_id: str
) -> FoundCustomer | None:
    require_provider(ctx, provider)
    ref = RecordRef(provider, checked_value(record_id, "id"))
    indexed = await _indexed(ctx, lambda index: _one(index.customer_of(ref)))
    return await find(ctx, refs=[ref], want=ref, indexed=indexed)


async def customer_by_email(ctx: RequestContext, email: str) -> FoundCustomer | None:
    checked_value(email, "email", MAX_EMAIL_LENGTH)
    normalised = normalise_email(email, ctx.settings.identity.placeholder_emails)
    if normalised is None:
        raise InvalidInput(
            f"{email!r} is not an email the gateway can look up (blank, placeholder or no '@')"
        )
    indexed = await _indexed(ctx, lambda index: index.customers_by_email(normalised))
    if indexed:
        # Several only when the guardrail kept an email's accounts apart: the one holding the
        # earliest-created records is the one the email joined first.
        indexed = sorted(indexed, key=_earliest)
    return await find(ctx, keys=[(Lookup.EMAIL, normalised)], email=normalised, indexed=indexed)


def _earliest(customer: IndexedCustomer) -> tuple[bool, datetime, str]:
    created = customer.created_at
    return (created is None, created or datetime.min.replace(tzinfo=UTC), customer.id)


async def customer_by_linked_id(
    ctx: RequestContext, by: Lookup, value: str
) -> FoundCustomer | None:
    """The customer holding a record that carries the linked id itself."""
    key: Key = (by, checked_value(value, "value"))
    indexed = await _indexed(ctx, lambda index: index.customers_by_key(MatchKey(*key)))
    if indexed:
        return await find(ctx, indexed=indexed)
    identity = ctx.settings.identity
    expansion = await expand(ctx.loaders, identity, keys=[key])
    ctx.note_degraded(expansion.errors)
    merged = resolve(expansion.records.values(), identity)
    if not merged and expansion.errors:
        raise ProviderFailed(next(iter(expansion.errors.values())))
    for customer in merged:
        for record in customer.records:
            if key in expansion_lookups(record, identity):
                return await _settle(ctx, expansion, customer, record.ref)
    return None


async def _indexed(
    ctx: RequestContext,
    query: Callable[[IdentityIndex], Awaitable[Sequence[IndexedCustomer]]],
) -> Sequence[IndexedCustomer] | None:
    """The index's answer once every configured provider is synced (``None`` before: the
    caller expands live). An empty answer also expands live: a record created since the
    last sync is found, and fed in."""
    if ctx.graph is None or not await ctx.graph.synced(ctx.adapters):
        return None
    return await ctx.graph.guarded(query(ctx.graph.index), None)


async def _one(found: Awaitable[IndexedCustomer | None]) -> Sequence[IndexedCustomer]:
    customer = await found
    return [] if customer is None else [customer]
