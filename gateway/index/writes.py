"""The index's write path: storing changed records, and rewriting a recomputed component's
customers, edges, guardrail conflicts and aliases (called by :class:`SQLIndex` inside its
write transaction)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.config import IdentitySettings
from gateway.identity import MatchKey, MergedCustomer
from gateway.identity.keys import email_key, record_keys
from gateway.identity.survivorship import ConflictKind
from gateway.index.components import Seeds, batched, ref_in
from gateway.index.contract import RecordChange
from gateway.index.serialise import dump_conflict
from gateway.index.summary import summary_row
from gateway.index.tables import aliases, conflicts, customers, edges, records
from gateway.index.tables import record_keys as record_keys_table
from gateway.model import RecordRef

__all__ = [
    "Incoming",
    "old_keys",
    "store_records",
    "stored_ranks",
    "write_aliases",
    "write_clusters",
]


def _utc(when: datetime) -> datetime:
    return when.astimezone(UTC) if when.tzinfo is not None else when.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Incoming:
    """The newest change per record in a batch, with its serialised snapshot."""

    change: RecordChange
    snapshot: str

    @property
    def rank(self) -> tuple[datetime, bool, str]:
        """Orders versions of one record: newer first, then deleted, then by content, so equal
        times still give one winner whatever the arrival order."""
        return (_utc(self.change.observed_at), self.change.record.deleted, self.snapshot)


async def stored_ranks(
    conn: AsyncConnection, refs: list[RecordRef]
) -> dict[RecordRef, tuple[datetime, bool, str]]:
    """The rank (see :class:`Incoming`) of what the index holds for ``refs``."""
    out: dict[RecordRef, tuple[datetime, bool, str]] = {}
    for chunk in batched(refs):
        query = sa.select(
            records.c.provider,
            records.c.record_id,
            records.c.observed_at,
            records.c.deleted,
            records.c.snapshot,
        ).where(ref_in(records.c.provider, records.c.record_id, chunk))
        for provider, record_id, observed, deleted, snapshot in await conn.execute(query):
            out[RecordRef(provider, record_id)] = (observed, deleted, snapshot)
    return out


async def old_keys(conn: AsyncConnection, refs: list[RecordRef]) -> Seeds:
    """The keys ``refs`` hold in the index now: where the component search starts."""
    seeds = Seeds(refs=set(refs))
    for chunk in batched(refs):
        emails = sa.select(records.c.email).where(
            ref_in(records.c.provider, records.c.record_id, chunk),
            records.c.email.is_not(None),
        )
        seeds.emails.update((await conn.execute(emails)).scalars())
        keys = sa.select(record_keys_table.c.namespace, record_keys_table.c.value).where(
            ref_in(record_keys_table.c.provider, record_keys_table.c.record_id, chunk)
        )
        seeds.keys.update(MatchKey(ns, value) for ns, value in await conn.execute(keys))
    return seeds


async def store_records(
    conn: AsyncConnection,
    settings: IdentitySettings,
    accepted: Mapping[RecordRef, Incoming],
    stored: Mapping[RecordRef, object],
    seeds: Seeds,
) -> None:
    """Write the accepted records and their keys (adding the new keys to ``seeds``); each
    keeps its customer until the recomputation moves it."""
    rows: list[dict[str, Any]] = []
    keys: list[dict[str, Any]] = []
    for ref, incoming in accepted.items():
        record = incoming.change.record
        email = None if record.deleted else email_key(record, settings)
        found = frozenset() if record.deleted else record_keys(record, settings)
        if email is not None:
            seeds.emails.add(email)
        seeds.keys |= found
        rows.append(
            {
                "b_provider": ref.provider,
                "b_record_id": ref.id,
                "email": email,
                "created_at": record.created_at,
                "observed_at": incoming.change.observed_at,
                "source": incoming.change.source.value,
                "deleted": record.deleted,
                "snapshot": incoming.snapshot,
            }
        )
        keys += [
            {
                "namespace": key.namespace,
                "value": key.value,
                "provider": ref.provider,
                "record_id": ref.id,
            }
            for key in sorted(found)
        ]
    refs = list(accepted)
    for chunk in batched(refs):
        await conn.execute(
            sa.delete(record_keys_table).where(
                ref_in(record_keys_table.c.provider, record_keys_table.c.record_id, chunk)
            )
        )
    known = [RecordRef(row["b_provider"], row["b_record_id"]) in stored for row in rows]
    new = [_unbound(row) for row, held in zip(rows, known, strict=True) if not held]
    old = [row for row, held in zip(rows, known, strict=True) if held]
    if new:
        await conn.execute(sa.insert(records), new)
    if old:
        await conn.execute(
            _update_by_ref([name for name in old[0] if not name.startswith("b_")]), old
        )
    if keys:
        await conn.execute(sa.insert(record_keys_table), keys)


async def write_clusters(
    conn: AsyncConnection,
    settings: IdentitySettings,
    merged: Sequence[MergedCustomer],
    ids: Sequence[str],
    minted_at: Sequence[datetime],
    now: datetime,
) -> None:
    rows, members, edge_rows, conflict_rows = [], [], [], []
    for customer, customer_id, minted in zip(merged, ids, minted_at, strict=True):
        rows.append(summary_row(customer, settings, customer_id, minted, now))
        members += [
            {"b_provider": r.provider, "b_record_id": r.id, "customer_id": customer_id}
            for r in customer.records
        ]
        edge_rows += [
            {
                "customer_id": customer_id,
                "position": index,
                "rule": edge.rule.value,
                "namespace": edge.namespace,
                "value": edge.value,
                "left_provider": edge.left.provider,
                "left_id": edge.left.id,
                "right_provider": edge.right.provider,
                "right_id": edge.right.id,
            }
            for index, edge in enumerate(customer.edges)
        ]
        guardrails = [c for c in customer.conflicts if c.kind is ConflictKind.GUARDRAIL]
        conflict_rows += [
            {"customer_id": customer_id, "position": index, "data": dump_conflict(conflict)}
            for index, conflict in enumerate(guardrails)
        ]
    if rows:
        await conn.execute(sa.insert(customers), rows)
    if members:
        await conn.execute(_update_by_ref(["customer_id"]), members)
    if edge_rows:
        await conn.execute(sa.insert(edges), edge_rows)
    if conflict_rows:
        await conn.execute(sa.insert(conflicts), conflict_rows)


async def write_aliases(
    conn: AsyncConnection,
    merged: Mapping[str, str],
    fresh: frozenset[str],
    now: datetime,
) -> None:
    """Merged-away ids alias their survivor (and so does every alias that named them);
    an alias id minted again stops being an alias."""
    for chunk in batched(sorted(fresh | set(merged))):
        await conn.execute(sa.delete(aliases).where(aliases.c.old_id.in_(chunk)))
    for old_id, survivor in sorted(merged.items()):
        await conn.execute(sa.update(aliases).where(aliases.c.id == old_id).values(id=survivor))
    if merged:
        await conn.execute(
            sa.insert(aliases),
            [{"old_id": o, "id": s, "at": now} for o, s in sorted(merged.items())],
        )


def _unbound(row: Mapping[str, Any]) -> dict[str, Any]:
    """A record row for an insert: the ``b_`` key parameters as plain columns."""
    out = {k: v for k, v in row.items() if not k.startswith("b_")}
    return {**out, "provider": row["b_provider"], "record_id": row["b_record_id"]}


def _update_by_ref(columns: Sequence[str]) -> sa.Update:
    """An executemany UPDATE of ``records``: each parameter row names its record by
    ``b_provider``/``b_record_id`` and gives ``columns`` by name."""
    return (
        sa.update(records)
        .where(
            records.c.provider == sa.bindparam("b_provider"),
            records.c.record_id == sa.bindparam("b_record_id"),
        )
        .values({name: sa.bindparam(name) for name in columns})
    )
