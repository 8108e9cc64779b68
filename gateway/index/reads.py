"""Reading customers back out of the index's tables: rows to :class:`IndexedCustomer`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.identity.overrides import Override, OverrideKind
from gateway.identity.resolver import MatchEdge, MatchRule
from gateway.identity.survivorship import Conflict
from gateway.index.components import batched, ref_in
from gateway.index.contract import IndexedCustomer
from gateway.index.serialise import load_conflict, load_record
from gateway.index.tables import (
    aliases,
    conflicts,
    customers,
    edges,
    override_records,
    overrides,
    records,
)
from gateway.model import CustomerRecord, RecordRef

__all__ = [
    "load_customers",
    "load_overrides",
    "load_records",
    "overrides_naming",
    "resolve_alias",
]


async def resolve_alias(conn: AsyncConnection, customer_id: str) -> str:
    """The live id ``customer_id`` names: itself, or the customer it was merged into."""
    query = sa.select(aliases.c.id).where(aliases.c.old_id == customer_id)
    return (await conn.execute(query)).scalar_one_or_none() or customer_id


async def load_customers(conn: AsyncConnection, ids: Iterable[str]) -> dict[str, IndexedCustomer]:
    """The live customers among ``ids``, with members, edges, conflicts and aliases."""
    out: dict[str, IndexedCustomer] = {}
    for chunk in batched(sorted(set(ids))):
        rows = (await conn.execute(sa.select(customers).where(customers.c.id.in_(chunk)))).all()
        if not rows:
            continue
        found = [row.id for row in rows]
        members, snapshots = await _members(conn, found)
        explained = await _edges(conn, found)
        guardrails = await _conflicts(conn, found)
        merged = await _aliases(conn, found)
        for row in rows:
            out[row.id] = IndexedCustomer(
                id=row.id,
                members=tuple(sorted(members.get(row.id, ()))),
                edges=tuple(explained.get(row.id, ())),
                conflicts=tuple(guardrails.get(row.id, ())),
                created_at=row.created_at,
                synced_at=row.synced_at,
                aliases=tuple(sorted(merged.get(row.id, ()))),
                snapshots=snapshots.get(row.id, {}),
            )
    return out


async def load_records(
    conn: AsyncConnection, refs: Sequence[RecordRef]
) -> dict[RecordRef, CustomerRecord]:
    """The stored snapshots of ``refs`` (deleted ones included, marked deleted)."""
    out: dict[RecordRef, CustomerRecord] = {}
    for chunk in batched(refs):
        query = sa.select(records.c.snapshot).where(
            ref_in(records.c.provider, records.c.record_id, chunk)
        )
        for snapshot in (await conn.execute(query)).scalars():
            record = load_record(snapshot)
            out[record.ref] = record
    return out


async def _members(
    conn: AsyncConnection, ids: list[str]
) -> tuple[Mapping[str, list[RecordRef]], Mapping[str, dict[RecordRef, CustomerRecord]]]:
    """Each customer's live member refs and their stored snapshots, in one query (reads then
    compare fresh records against the snapshots without a second round trip)."""
    query = sa.select(
        records.c.customer_id, records.c.provider, records.c.record_id, records.c.snapshot
    ).where(records.c.customer_id.in_(ids), records.c.deleted.is_(False))
    refs: dict[str, list[RecordRef]] = defaultdict(list)
    snapshots: dict[str, dict[RecordRef, CustomerRecord]] = defaultdict(dict)
    for customer_id, provider, record_id, snapshot in await conn.execute(query):
        ref = RecordRef(provider, record_id)
        refs[customer_id].append(ref)
        snapshots[customer_id][ref] = load_record(snapshot)
    return refs, snapshots


async def _edges(conn: AsyncConnection, ids: list[str]) -> Mapping[str, list[MatchEdge]]:
    query = sa.select(edges).where(edges.c.customer_id.in_(ids)).order_by(edges.c.position)
    out: dict[str, list[MatchEdge]] = defaultdict(list)
    for row in await conn.execute(query):
        out[row.customer_id].append(
            MatchEdge(
                rule=MatchRule(row.rule),
                namespace=row.namespace,
                value=row.value,
                left=RecordRef(row.left_provider, row.left_id),
                right=RecordRef(row.right_provider, row.right_id),
            )
        )
    return out


async def _conflicts(conn: AsyncConnection, ids: list[str]) -> Mapping[str, list[Conflict]]:
    query = (
        sa.select(conflicts.c.customer_id, conflicts.c.data)
        .where(conflicts.c.customer_id.in_(ids))
        .order_by(conflicts.c.position)
    )
    out: dict[str, list[Conflict]] = defaultdict(list)
    for customer_id, data in await conn.execute(query):
        out[customer_id].append(load_conflict(data))
    return out


async def _aliases(conn: AsyncConnection, ids: list[str]) -> Mapping[str, list[str]]:
    query = sa.select(aliases.c.id, aliases.c.old_id).where(aliases.c.id.in_(ids))
    out: dict[str, list[str]] = defaultdict(list)
    for customer_id, old_id in await conn.execute(query):
        out[customer_id].append(old_id)
    return out


async def overrides_naming(conn: AsyncConnection, refs: Sequence[RecordRef]) -> list[Override]:
    """Every override naming any of ``refs``, oldest first."""
    ids: set[int] = set()
    for chunk in batched(refs):
        query = sa.select(override_records.c.override_id).where(
            ref_in(override_records.c.provider, override_records.c.record_id, chunk)
        )
        ids.update((await conn.execute(query)).scalars())
    return await load_overrides(conn, ids)


async def load_overrides(conn: AsyncConnection, ids: set[int]) -> list[Override]:
    """Overrides by id, oldest first (then in the order they were stored)."""
    found: list[tuple[datetime, int, Override]] = []
    for chunk in batched(sorted(ids)):
        rows = (await conn.execute(sa.select(overrides).where(overrides.c.id.in_(chunk)))).all()
        named = (
            await conn.execute(
                sa.select(override_records)
                .where(override_records.c.override_id.in_(chunk))
                .order_by(override_records.c.override_id, override_records.c.position)
            )
        ).all()
        for row in rows:
            refs = tuple(
                RecordRef(r.provider, r.record_id) for r in named if r.override_id == row.id
            )
            override = Override(OverrideKind(row.kind), refs, row.reason, row.actor, row.at)
            found.append((row.at, row.id, override))
    return [override for _, _, override in sorted(found, key=lambda f: (f[0], f[1]))]
