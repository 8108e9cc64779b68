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
from datetime import UTC, datetime
from typing import Concatenate, Final, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.config import IdentitySettings
from gateway.identity import (
    MatchKey,
    MergedCustomer,
    Override,
    normalise_email,
    resolve,
)
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
from gateway.index.engine import FileReader, safe_url
from gateway.index.ids import NewCluster, OldCustomer, assign_ids, candidates
from gateway.index.lease import SyncLease, lease_for
from gateway.index.pages import encode_cursor, page_select
from gateway.index.reads import (
    customer_holding,
    customers_named,
    customers_with_email,
    customers_with_key,
    index_stats,
    load_records,
    overrides_naming,
    overrides_of,
    page_rows,
    sync_cursor,
)
from gateway.index.serialise import dump_record
from gateway.index.tables import (
    conflicts,
    customers,
    edges,
    override_records,
    overrides,
    records,
    sync_cursors,
)
from gateway.index.writes import (
    Incoming,
    old_keys,
    store_records,
    stored_ranks,
    write_aliases,
    write_clusters,
)
from gateway.model import CustomerRecord, RecordRef

__all__ = ["SQLIndex"]

_P = ParamSpec("_P")
_T = TypeVar("_T")

_LOCK_KEY: Final = 0x6367775F69647831
"""PostgreSQL advisory lock id for index writers (``cgw_idx1``)."""


def _resolve(
    found: Sequence[CustomerRecord], settings: IdentitySettings, decided: Sequence[Override]
) -> list[MergedCustomer]:
    """The one place the index calls the resolver."""
    return resolve(found, settings, decided)


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
        reader: FileReader | None = None,
    ) -> None:
        self._engine = engine
        self._reader = reader
        """Blocking reads of a SQLite file (:func:`~gateway.index.engine.file_reader`)."""
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

    def sync_lease(self) -> SyncLease:
        """The lease one process takes to run this index's sync (gateway/index/lease.py)."""
        return lease_for(self._engine.url)

    # -- transactions ------------------------------------------------------------------------

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        async with self._lock, self._engine.begin() as conn:
            if self._postgres:
                await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_KEY)))
            else:
                # Take the file's write lock up front: a transaction that starts reading and
                # then writes fails at once (SQLITE_BUSY, no busy_timeout wait) when another
                # process wrote meanwhile, e.g. the workers of `serve --workers`.
                await conn.exec_driver_sql("BEGIN IMMEDIATE")
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

    async def _reading(
        self,
        read: Callable[Concatenate[sa.Connection, _P], _T],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> _T:
        """Run one whole read (gateway/index/reads.py). A SQLite file is read through a plain
        connection, the whole read at once on the event loop's thread: aiosqlite makes several
        thread hand-offs per statement (a lookup's CPU 1.7 -> 0.3 ms), and even one hand-off
        to a reader thread cost more than the read itself under load (the GIL goes back and
        forth: a page 23.4 -> ~20 ms CPU at 50 ms provider latency). Reads need not queue
        behind the writer (WAL). Elsewhere, on the async connection."""
        if self._reader is not None:
            with self._reader.engine.connect() as conn:
                return read(conn, *args, **kwargs)
        async with self._read() as conn:
            return await conn.run_sync(read, *args, **kwargs)

    # -- writes ------------------------------------------------------------------------------

    async def apply(self, changes: Sequence[RecordChange]) -> Applied:
        """Per record, the newest change of the batch is kept and stored only when it is newer
        than what the index holds (equal times: deletion, then content, decides, so any order
        converges); ``Applied.ignored`` counts every change not stored (older, repeated, or
        superseded within the batch)."""
        newest: dict[RecordRef, Incoming] = {}
        for change in changes:
            incoming = Incoming(change, dump_record(change.record))
            held = newest.get(change.record.ref)
            if held is None or incoming.rank > held.rank:
                newest[change.record.ref] = incoming
        if not newest:
            return Applied()
        async with self._write() as conn:
            stored = await stored_ranks(conn, list(newest))
            accepted = {
                ref: incoming
                for ref, incoming in newest.items()
                if ref not in stored or incoming.rank > stored[ref]
            }
            ignored = len(changes) - len(accepted)
            if not accepted:
                return Applied(ignored=ignored)
            seeds = await old_keys(conn, list(accepted))
            await store_records(conn, self._settings, accepted, stored, seeds)
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
            return await self._recompute(conn, await old_keys(conn, list(override.records)))

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
        found = [r for r in (await conn.run_sync(load_records, refs)).values() if not r.deleted]
        merged = _resolve(found, self._settings, await conn.run_sync(overrides_naming, refs))

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
        await write_clusters(
            conn, self._settings, merged, assignment.ids, assignment.minted_at, now
        )
        await write_aliases(conn, assignment.aliases, assignment.fresh, now)

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

    # -- reads -------------------------------------------------------------------------------

    async def customer(self, customer_id: str) -> IndexedCustomer | None:
        return (await self._reading(customers_named, [customer_id])).get(customer_id)

    async def customers(self, ids: Sequence[str]) -> Mapping[str, IndexedCustomer]:
        if not ids:
            return {}
        return await self._reading(customers_named, list(ids))

    async def customer_of(self, ref: RecordRef) -> IndexedCustomer | None:
        return await self._reading(customer_holding, ref)

    async def customers_by_email(self, email: str) -> Sequence[IndexedCustomer]:
        matching = normalise_email(email, self._settings.placeholder_emails)
        if matching is None:
            return []
        return await self._reading(customers_with_email, matching)

    async def customers_by_key(self, key: MatchKey) -> Sequence[IndexedCustomer]:
        return await self._reading(customers_with_key, key.namespace, key.value)

    async def records(self, refs: Sequence[RecordRef]) -> Mapping[RecordRef, CustomerRecord]:
        return await self._reading(load_records, list(refs))

    async def page(self, query: PageQuery) -> IndexPage:
        if query.first < 0:
            raise ValueError(f"first must be >= 0, got {query.first}")
        email = (
            normalise_email(query.filter.email, self._settings.placeholder_emails)
            if query.filter.email is not None
            else None
        )
        rows, found = await self._reading(page_rows, page_select(query, email), query.first)
        shown = rows[: query.first]
        listed = [row for row in shown if row.id in found]
        cursors = [encode_cursor(query.order, (r.missing, r.value, r.id)) for r in listed]
        last = shown[-1] if shown else None
        return IndexPage(
            customers=[found[row.id] for row in listed],
            end_cursor=encode_cursor(query.order, (last.missing, last.value, last.id))
            if last is not None
            else None,
            has_next_page=len(rows) > query.first,
            cursors=cursors,
        )

    async def overrides(self, refs: Sequence[RecordRef] | None = None) -> Sequence[Override]:
        if refs is not None and not refs:
            return []
        return await self._reading(overrides_of, list(refs) if refs is not None else None)

    async def cursor(self, provider: str, stream: str) -> SyncCursor | None:
        return await self._reading(sync_cursor, provider, stream)

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
        return await self._reading(index_stats)

    async def aclose(self) -> None:
        if self._reader is not None:
            self._reader.close()
        await self._engine.dispose()
