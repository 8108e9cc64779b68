"""Customers answered from the identity index: who from the index, what fresh from providers.

Every member record is fetched by its provider's own id, all customers of a request in one
concurrent wave (the dataloaders batch them per provider; a provider whose list filters by
creation time answers most of them with one listing, :mod:`gateway.core.windows`). What the
fetch shows changed about who a record is (a new email, a link removed, a record gone) is fed
back to the index first (read-repair), and a customer whose membership that changed is read
again from the index.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.config import IdentitySettings
from gateway.core.context import RequestContext
from gateway.core.found import FoundCustomer
from gateway.core.graph import IdentityGraph
from gateway.core.loaders import LookupResult
from gateway.core.windows import load_by_id
from gateway.errors import ProviderError, ProviderFailed
from gateway.identity import assemble
from gateway.index import IndexedCustomer
from gateway.model import CustomerRecord, RecordRef

__all__ = ["from_index", "from_index_each"]


async def from_index(
    ctx: RequestContext,
    graph: IdentityGraph,
    customers: Sequence[IndexedCustomer | None],
    *,
    strict: bool = True,
) -> list[FoundCustomer | None]:
    """Each indexed customer with its member records fetched fresh (``None``: none is left).

    ``strict``: a customer none of whose records could be read (their providers failed)
    raises :class:`ProviderFailed` (one lookup: "not found" would be a lie); otherwise it is
    left out as ``None`` (a page shows the others, and names the failed providers)."""
    answers = await from_index_each(ctx, graph, customers)
    if strict and (failed := [a for a in answers if isinstance(a, ProviderFailed)]):
        raise failed[0]
    return [None if isinstance(a, ProviderFailed) else a for a in answers]


async def from_index_each(
    ctx: RequestContext, graph: IdentityGraph, customers: Sequence[IndexedCustomer | None]
) -> list[FoundCustomer | ProviderFailed | None]:
    """:func:`from_index` with each customer's own answer, for lookups read together that
    must each answer as if alone: a customer none of whose records could be read gets its
    :class:`ProviderFailed` as a value, the others their customers, in one wave."""
    fetched = await _fetch(ctx, customers)
    records = [r for found in fetched for r in found.records]
    missing = [ref for found in fetched for ref in found.missing]
    known = {ref: r for c in customers if c is not None for ref, r in c.snapshots.items()}
    if await graph.guarded(graph.repair(records, missing, known), False):
        customers = await graph.guarded(_reread(graph, customers), customers)
        fetched = await _fetch(ctx, customers)  # new members only: the rest are cached
    identity = ctx.settings.identity
    return [
        _found(indexed, found, identity) if indexed is not None else None
        for indexed, found in zip(customers, fetched, strict=True)
    ]


class _Fetched:
    __slots__ = ("errors", "missing", "records")

    def __init__(self) -> None:
        self.records: list[CustomerRecord] = []
        self.missing: list[RecordRef] = []
        self.errors: dict[str, ProviderError] = {}


async def _fetch(
    ctx: RequestContext, customers: Sequence[IndexedCustomer | None]
) -> list[_Fetched]:
    refs = [
        [ref for ref in c.members if ref.provider in ctx.adapters] if c is not None else []
        for c in customers
    ]
    created = {
        ref: snapshot.created_at
        for c in customers
        if c is not None
        for ref, snapshot in c.snapshots.items()
        if snapshot.created_at is not None
    }
    outcomes = await load_by_id(ctx, [ref for members in refs for ref in members], created)
    out: list[_Fetched] = []
    for members in refs:
        found = _Fetched()
        for ref in members:
            _collect(found, ref, outcomes[ref])
        ctx.note_degraded(found.errors)
        out.append(found)
    return out


def _collect(found: _Fetched, ref: RecordRef, outcome: LookupResult) -> None:
    if outcome.error is not None:
        found.errors.setdefault(ref.provider, outcome.error)
        return
    live = [r for r in outcome.records if r.ref == ref and not r.deleted]
    if live:
        found.records.append(live[0])
    else:
        found.missing.append(ref)


async def _reread(
    graph: IdentityGraph, customers: Sequence[IndexedCustomer | None]
) -> list[IndexedCustomer | None]:
    """The customers again after a read-repair, in one index read (by id: a merged-away id
    follows its alias)."""
    found = await graph.index.customers([c.id for c in customers if c is not None])
    return [found.get(c.id) if c is not None else None for c in customers]


def _found(
    indexed: IndexedCustomer, fetched: _Fetched, identity: IdentitySettings
) -> FoundCustomer | ProviderFailed | None:
    if not fetched.records:
        return ProviderFailed(next(iter(fetched.errors.values()))) if fetched.errors else None
    merged = assemble(fetched.records, indexed.edges, indexed.conflicts, identity)
    return FoundCustomer(
        merged,
        fetched.errors,
        customer_id=indexed.id,
        synced_at=indexed.synced_at,
        aliases=indexed.aliases,
    )
