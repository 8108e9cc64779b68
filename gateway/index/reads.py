"""Reading customers back out of the index's tables: rows to :class:`IndexedCustomer`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.identity.resolver import MatchEdge, MatchRule
from gateway.identity.survivorship import Conflict
from gateway.index.components import batched, ref_in
from gateway.index.contract import IndexedCustomer
from gateway.index.serialise import load_conflict, load_record
from gateway.index.tables import aliases, conflicts, customers, edges, records
from gateway.model import CustomerRecord, RecordRef

__all__ = ["load_customers", "load_records", "resolve_alias"]


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
        members = await _members(conn, found)
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


async def _members(conn: AsyncConnection, ids: list[str]) -> Mapping[str, list[RecordRef]]:
    query = sa.select(records.c.customer_id, records.c.provider, records.c.record_id).where(
        records.c.customer_id.in_(ids), records.c.deleted.is_(False)
    )
    out: dict[str, list[RecordRef]] = defaultdict(list)
    for customer_id, provider, record_id in await conn.execute(query):
        out[customer_id].append(RecordRef(provider, record_id))
    return out


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
