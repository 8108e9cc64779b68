"""``SQLIndex``: the identity index on SQLAlchemy Core (async), for SQLite and PostgreSQL alike.

Writes (:meth:`SQLIndex.apply`, :meth:`SQLIndex.add_override`) run in one transaction each:
store the changed records, gather their component (gateway/index/components.py), re-run the
pure resolver over it, give its clusters their ids (gateway/index/ids.py) and rewrite the
component's customers, edges, conflicts and aliases. Writers are serialised: by a lock in the
process and, on PostgreSQL, by a transaction-level advisory lock, so replicas sharing one
database never recompute overlapping components at once. Reads follow aliases.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.config import IdentitySettings
from gateway.identity import (
    MatchKey,
    MergedCustomer,
    Override,
    OverrideKind,
    normalise_email,
    resolve,
)
from gateway.identity.keys import email_key, record_keys
from gateway.identity.survivorship import ConflictKind
from gateway.index.components import DEFAULT_LIMIT, Seeds, batched, find_component, ref_in
from gateway.index.contract import (
    Applied,
    IndexedCustomer,
    IndexPage,
    IndexStats,
    PageQuery,
    RecordChange,
    SyncCursor,
)
from gateway.index.engine import safe_url
from gateway.index.ids import NewCluster, OldCustomer, assign_ids, candidates
from gateway.index.pages import encode_cursor, page_select
from gateway.index.reads import load_customers, load_records, resolve_alias
from gateway.index.serialise import dump_conflict, dump_record
from gateway.index.summary import summary_row
from gateway.index.tables import (
    aliases,
    conflicts,
    customers,
    edges,
    override_records,
    overrides,
    records,
    sync_cursors,
)
from gateway.index.tables import (
    record_keys as record_keys_table,
)
from gateway.model import CustomerRecord, RecordRef

__all__ = ["SQLIndex"]

_LOCK_KEY: Final = 0x6367775F69647831
"""PostgreSQL advisory lock id for index writers (``cgw_idx1``)."""


def _resolve(
    found: Sequence[CustomerRecord], settings: IdentitySettings, decided: Sequence[Override]
) -> list[MergedCustomer]:
    """The one place the index calls the resolver."""
    # i8-merge: pass overrides to resolve()
    return resolve(found, settings)


def _utc(when: datetime) -> datetime:
    return when.astimezone(UTC) if when.tzinfo is not None else when.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class _Incoming:
    """The newest change per record in a batch, with its serialised snapshot."""

    change: RecordChange
    snapshot: str

    @property
    def rank(self) -> tuple[datetime, bool, str]:
        """Orders versions of one record: newer first, then deleted, then by content, so equal
        times still give one winner whatever the arrival order."""
        return (_utc(self.change.observed_at), self.change.record.deleted, self.snapshot)


class SQLIndex:
    """The :class:`~gateway.index.contract.IdentityIndex` on an async SQLAlchemy engine.

    Open it with :func:`gateway.index.open_index` (which migrates first); the schema must be at
    head. ``max_component`` bounds one recomputation (gateway/index/components.py); ``clock``
    gives "now" (mint, sync and alias times).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        settings: IdentitySettings,
        *,
        max_component: int = DEFAULT_LIMIT,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._max_component = max_component
        self._clock = clock
        self._lock = asyncio.Lock()
        self._postgres = engine.dialect.name == "postgresql"

    def __repr__(self) -> str:
        return f"SQLIndex({safe_url(self._engine.url)})"

    @property
    def url(self) -> str:
        """Where the index lives, password masked."""
        return safe_url(self._engine.url)

    # -- transactions ------------------------------------------------------------------------

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        async with self._lock, self._engine.begin() as conn:
            if self._postgres:
                await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_KEY)))
            yield conn

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        """SQLite (one connection in memory, one writer per file) reads under the lock too."""
        if self._postgres:
            async with self._engine.connect() as conn:
                yield conn
        else:
            async with self._lock, self._engine.connect() as conn:
                yield conn

    # -- writes ------------------------------------------------------------------------------

    async def apply(self, changes: Sequence[RecordChange]) -> Applied:
        """Per record, the newest change of the batch is kept and stored only when it is newer
        than what the index holds (equal times: deletion, then content, decides, so any order
        converges); ``Applied.ignored`` counts every change not stored (older, repeated, or
        superseded within the batch)."""
        newest: dict[RecordRef, _Incoming] = {}
        for change in changes:
            incoming = _Incoming(change, dump_record(change.record))
            held = newest.get(change.record.ref)
            if held is None or incoming.rank > held.rank:
                newest[change.record.ref] = incoming
        if not newest:
            return Applied()
        async with self._write() as conn:
            stored = await self._stored(conn, list(newest))
            accepted = {
                ref: incoming
                for ref, incoming in newest.items()
                if ref not in stored or incoming.rank > stored[ref]
            }
            ignored = len(changes) - len(accepted)
            if not accepted:
                return Applied(ignored=ignored)
            seeds = await self._old_keys(conn, list(accepted))
            await self._store(conn, accepted, stored, seeds)
            applied = await self._recompute(conn, seeds)
        return Applied(applied.changed, applied.aliased, ignored)

    async def add_override(self, override: Override) -> Applied:
        async with self._write() as conn:
            result = await conn.execute(
                sa.insert(overrides).values(
                    kind=override.kind.value,
                    reason=override.reason,
                    actor=override.actor,
                    at=override.at,
                )
            )
            (override_id,) = result.inserted_primary_key or (None,)
            await conn.execute(
                sa.insert(override_records),
                [
                    {
                        "override_id": override_id,
                        "position": index,
                        "provider": ref.provider,
                        "record_id": ref.id,
                    }
                    for index, ref in enumerate(override.records)
                ],
            )
            return await self._recompute(conn, await self._old_keys(conn, list(override.records)))

    async def _stored(
        self, conn: AsyncConnection, refs: list[RecordRef]
    ) -> dict[RecordRef, tuple[datetime, bool, str]]:
        """The rank (see :class:`_Incoming`) of what the index holds for ``refs``."""
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

    async def _old_keys(self, conn: AsyncConnection, refs: list[RecordRef]) -> Seeds:
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

    async def _store(
        self,
        conn: AsyncConnection,
        accepted: Mapping[RecordRef, _Incoming],
        stored: Mapping[RecordRef, object],
        seeds: Seeds,
    ) -> None:
        """Write the accepted records and their keys (adding the new keys to ``seeds``); each
        keeps its customer until the recomputation moves it."""
        rows: list[dict[str, Any]] = []
        keys: list[dict[str, Any]] = []
        for ref, incoming in accepted.items():
            record = incoming.change.record
            email = None if record.deleted else email_key(record, self._settings)
            found = frozenset() if record.deleted else record_keys(record, self._settings)
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
                sa.update(records)
                .where(
                    records.c.provider == sa.bindparam("b_provider"),
                    records.c.record_id == sa.bindparam("b_record_id"),
                )
                .values({name: sa.bindparam(name) for name in old[0] if not name.startswith("b_")}),
                old,
            )
        if keys:
            await conn.execute(sa.insert(record_keys_table), keys)

    async def _recompute(self, conn: AsyncConnection, seeds: Seeds) -> Applied:
        """Re-cluster the component of ``seeds`` and rewrite what the index says about it."""
        now = self._clock()
        component = await find_component(conn, seeds, self._max_component)
        refs = sorted(component.refs)
        held: dict[RecordRef, str | None] = {}
        for chunk in batched(refs):
            query = sa.select(records.c.provider, records.c.record_id, records.c.customer_id).where(
                ref_in(records.c.provider, records.c.record_id, chunk)
            )
            held.update({RecordRef(p, i): c for p, i, c in await conn.execute(query)})
        found = [r for r in (await load_records(conn, refs)).values() if not r.deleted]
        merged = _resolve(found, self._settings, await self._overrides(conn, refs))

        old_ids = sorted({c for c in held.values() if c is not None})
        minted = await self._minted(conn, old_ids)
        old = [
            OldCustomer(
                customer_id,
                minted[customer_id],
                frozenset(ref for ref, c in held.items() if c == customer_id),
            )
            for customer_id in old_ids
            if customer_id in minted
        ]
        clusters = [NewCluster(m.external_ids) for m in merged]
        wanted = {c for cluster in clusters for c in candidates(cluster)} - set(old_ids)
        assignment = assign_ids(
            old,
            clusters,
            {r.ref: r.created_at for r in found},
            await self._taken(conn, wanted),
            now,
        )

        touched = sorted(set(old_ids) | set(assignment.ids))
        for ids in batched(touched):
            for table in (customers, edges, conflicts):
                column = table.c.id if table is customers else table.c.customer_id
                await conn.execute(sa.delete(table).where(column.in_(ids)))
        for chunk in batched(refs):
            await conn.execute(
                sa.update(records)
                .where(ref_in(records.c.provider, records.c.record_id, chunk))
                .values(customer_id=None)
            )
        await self._write_clusters(conn, merged, assignment.ids, assignment.minted_at, now)
        await self._write_aliases(conn, assignment.aliases, assignment.fresh, now)

        before = {c.id: set(c.members) for c in old}
        changed = set(assignment.aliases) | set(assignment.emptied) | set(assignment.fresh)
        changed |= {
            customer_id
            for customer_id, m in zip(assignment.ids, merged, strict=True)
            if before.get(customer_id) != {r.ref for r in m.records}
        }
        return Applied(changed=tuple(sorted(changed)), aliased=dict(assignment.aliases))

    async def _minted(self, conn: AsyncConnection, ids: list[str]) -> dict[str, datetime]:
        out: dict[str, datetime] = {}
        for chunk in batched(ids):
            query = sa.select(customers.c.id, customers.c.minted_at)
            query = query.where(customers.c.id.in_(chunk))
            out.update({row.id: row.minted_at for row in await conn.execute(query)})
        return out

    async def _taken(self, conn: AsyncConnection, wanted: set[str]) -> set[str]:
        out: set[str] = set()
        for chunk in batched(sorted(wanted)):
            query = sa.select(customers.c.id).where(customers.c.id.in_(chunk))
            out.update((await conn.execute(query)).scalars())
        return out

    async def _write_clusters(
        self,
        conn: AsyncConnection,
        merged: Sequence[MergedCustomer],
        ids: Sequence[str],
        minted_at: Sequence[datetime],
        now: datetime,
    ) -> None:
        rows, members, edge_rows, conflict_rows = [], [], [], []
        for customer, customer_id, minted in zip(merged, ids, minted_at, strict=True):
            rows.append(summary_row(customer, self._settings, customer_id, minted, now))
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
            await conn.execute(
                sa.update(records)
                .where(
                    records.c.provider == sa.bindparam("b_provider"),
                    records.c.record_id == sa.bindparam("b_record_id"),
                )
                .values(customer_id=sa.bindparam("customer_id")),
                members,
            )
        if edge_rows:
            await conn.execute(sa.insert(edges), edge_rows)
        if conflict_rows:
            await conn.execute(sa.insert(conflicts), conflict_rows)

    async def _write_aliases(
        self,
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

    async def _overrides(self, conn: AsyncConnection, refs: Sequence[RecordRef]) -> list[Override]:
        ids: set[int] = set()
        for chunk in batched(refs):
            query = sa.select(override_records.c.override_id).where(
                ref_in(override_records.c.provider, override_records.c.record_id, chunk)
            )
            ids.update((await conn.execute(query)).scalars())
        return await _load_overrides(conn, ids)

    # -- reads -------------------------------------------------------------------------------

    async def customer(self, customer_id: str) -> IndexedCustomer | None:
        async with self._read() as conn:
            live = await resolve_alias(conn, customer_id)
            return (await load_customers(conn, [live])).get(live)

    async def customer_of(self, ref: RecordRef) -> IndexedCustomer | None:
        async with self._read() as conn:
            query = sa.select(records.c.customer_id).where(
                records.c.provider == ref.provider,
                records.c.record_id == ref.id,
                records.c.deleted.is_(False),
            )
            customer_id = (await conn.execute(query)).scalar_one_or_none()
            if customer_id is None:
                return None
            return (await load_customers(conn, [customer_id])).get(customer_id)

    async def customers_by_email(self, email: str) -> Sequence[IndexedCustomer]:
        matching = normalise_email(email, self._settings.placeholder_emails)
        if matching is None:
            return []
        query = sa.select(records.c.customer_id).where(
            records.c.email == matching, records.c.deleted.is_(False)
        )
        return await self._customers(query)

    async def customers_by_key(self, key: MatchKey) -> Sequence[IndexedCustomer]:
        query = (
            sa.select(records.c.customer_id)
            .join(
                record_keys_table,
                sa.and_(
                    record_keys_table.c.provider == records.c.provider,
                    record_keys_table.c.record_id == records.c.record_id,
                ),
            )
            .where(
                record_keys_table.c.namespace == key.namespace,
                record_keys_table.c.value == key.value,
                records.c.deleted.is_(False),
            )
        )
        return await self._customers(query)

    async def _customers(self, query: sa.Select[str | None]) -> list[IndexedCustomer]:
        async with self._read() as conn:
            ids = {c for c in (await conn.execute(query)).scalars() if c is not None}
            found = await load_customers(conn, ids)
        return [found[i] for i in sorted(found)]

    async def records(self, refs: Sequence[RecordRef]) -> Mapping[RecordRef, CustomerRecord]:
        async with self._read() as conn:
            return await load_records(conn, list(refs))

    async def page(self, query: PageQuery) -> IndexPage:
        if query.first < 0:
            raise ValueError(f"first must be >= 0, got {query.first}")
        email = (
            normalise_email(query.filter.email, self._settings.placeholder_emails)
            if query.filter.email is not None
            else None
        )
        async with self._read() as conn:
            rows = (await conn.execute(page_select(query, email))).all()
            shown = rows[: query.first]
            found = await load_customers(conn, [row.id for row in shown])
        end = (
            encode_cursor(query.order, (shown[-1].missing, shown[-1].value, shown[-1].id))
            if shown
            else None
        )
        return IndexPage(
            customers=[found[row.id] for row in shown if row.id in found],
            end_cursor=end,
            has_next_page=len(rows) > query.first,
        )

    async def overrides(self, refs: Sequence[RecordRef] | None = None) -> Sequence[Override]:
        async with self._read() as conn:
            query = sa.select(overrides.c.id)
            if refs is not None:
                if not refs:
                    return []
                query = sa.select(override_records.c.override_id).where(
                    ref_in(override_records.c.provider, override_records.c.record_id, list(refs))
                )
            return await _load_overrides(conn, set((await conn.execute(query)).scalars()))

    async def cursor(self, provider: str, stream: str) -> SyncCursor | None:
        async with self._read() as conn:
            query = sa.select(sync_cursors).where(
                sync_cursors.c.provider == provider, sync_cursors.c.stream == stream
            )
            row = (await conn.execute(query)).one_or_none()
        if row is None:
            return None
        return SyncCursor(
            row.provider, row.stream, row.position, row.complete, row.records, row.updated_at
        )

    async def save_cursor(self, cursor: SyncCursor) -> None:
        async with self._write() as conn:
            await conn.execute(
                sa.delete(sync_cursors).where(
                    sync_cursors.c.provider == cursor.provider,
                    sync_cursors.c.stream == cursor.stream,
                )
            )
            await conn.execute(
                sa.insert(sync_cursors).values(
                    provider=cursor.provider,
                    stream=cursor.stream,
                    position=cursor.position,
                    complete=cursor.complete,
                    records=cursor.records,
                    updated_at=cursor.updated_at,
                )
            )

    async def stats(self) -> IndexStats:
        async with self._read() as conn:
            query = (
                sa.select(records.c.provider, sa.func.count())
                .where(records.c.deleted.is_(False))
                .group_by(records.c.provider)
            )
            per_provider = {provider: n for provider, n in await conn.execute(query)}
            count = (await conn.execute(sa.select(sa.func.count()).select_from(customers))).scalar()
        return IndexStats(
            records=sum(per_provider.values()),
            customers=count or 0,
            records_per_provider=dict(sorted(per_provider.items())),
        )

    async def aclose(self) -> None:
        await self._engine.dispose()


def _unbound(row: Mapping[str, Any]) -> dict[str, Any]:
    """A record row for an insert: the ``b_`` key parameters as plain columns."""
    out = {k: v for k, v in row.items() if not k.startswith("b_")}
    return {**out, "provider": row["b_provider"], "record_id": row["b_record_id"]}


async def _load_overrides(conn: AsyncConnection, ids: set[int]) -> list[Override]:
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
