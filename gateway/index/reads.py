"""Reading customers back out of the index's tables: rows to :class:`IndexedCustomer`.

Plain (blocking) functions on a SQLAlchemy ``Connection``: the index runs each whole read in
one go, on the event loop for a SQLite file, or through ``sa.Connection.run_sync`` otherwise
(gateway/index/store.py), so a lookup costs at most one hand-off, not one per statement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa

from gateway.identity.overrides import Override, OverrideKind
from gateway.identity.resolver import MatchEdge, MatchRule
from gateway.identity.survivorship import Conflict
from gateway.index.components import batched, ref_in
from gateway.index.contract import IndexedCustomer, IndexStats, SyncCursor
from gateway.index.raw import fetch
from gateway.index.serialise import load_conflict, load_snapshot
from gateway.index.tables import (
    aliases,
    conflicts,
    customers,
    edges,
    override_records,
    overrides,
    record_keys,
    records,
    sync_cursors,
)
from gateway.model import CustomerRecord, RecordRef

__all__ = [
    "customer_holding",
    "customers_named",
    "customers_with_email",
    "customers_with_key",
    "index_stats",
    "load_customers",
    "load_overrides",
    "load_records",
    "overrides_naming",
    "overrides_of",
    "page_rows",
    "sync_cursor",
]


# Built once: a statement made afresh per read costs SQLAlchemy more than SQLite's work on it
# (~100 us against ~5); these are compiled once and only their parameters change, and on a
# SQLite file they run straight through the driver (gateway/index/raw.py).
_IDS: sa.BindParameter[list[str]] = sa.bindparam("ids", expanding=True)
_ALIASES_OF = sa.select(aliases.c.old_id, aliases.c.id).where(aliases.c.old_id.in_(_IDS))
_CUSTOMERS = sa.select(customers.c.id, customers.c.created_at, customers.c.synced_at).where(
    customers.c.id.in_(_IDS)
)
_MEMBERS = sa.select(
    records.c.customer_id, records.c.provider, records.c.record_id, records.c.snapshot
).where(records.c.customer_id.in_(_IDS), records.c.deleted.is_(False))
_EDGES = (
    sa.select(
        edges.c.customer_id,
        edges.c.rule,
        edges.c.namespace,
        edges.c.value,
        edges.c.left_provider,
        edges.c.left_id,
        edges.c.right_provider,
        edges.c.right_id,
    )
    .where(edges.c.customer_id.in_(_IDS))
    .order_by(edges.c.position)
)
_RULES: Final = {rule.value: rule for rule in MatchRule}
_CONFLICTS = (
    sa.select(conflicts.c.customer_id, conflicts.c.data)
    .where(conflicts.c.customer_id.in_(_IDS))
    .order_by(conflicts.c.position)
)
_ALIASES = sa.select(aliases.c.id, aliases.c.old_id).where(aliases.c.id.in_(_IDS))
_WITH_EMAIL = sa.select(records.c.customer_id).where(
    records.c.email == sa.bindparam("email"), records.c.deleted.is_(False)
)
_WITH_KEY = (
    sa.select(records.c.customer_id)
    .join(
        record_keys,
        sa.and_(
            record_keys.c.provider == records.c.provider,
            record_keys.c.record_id == records.c.record_id,
        ),
    )
    .where(
        record_keys.c.namespace == sa.bindparam("namespace"),
        record_keys.c.value == sa.bindparam("value"),
        records.c.deleted.is_(False),
    )
)
_HOLDING = sa.select(records.c.customer_id).where(
    records.c.provider == sa.bindparam("provider"),
    records.c.record_id == sa.bindparam("record_id"),
    records.c.deleted.is_(False),
)


def load_customers(conn: sa.Connection, ids: Iterable[str]) -> dict[str, IndexedCustomer]:
    """The live customers among ``ids``, with members, edges, conflicts and aliases."""
    out: dict[str, IndexedCustomer] = {}
    for chunk in batched(sorted(set(ids))):
        rows = fetch(conn, _CUSTOMERS, {"ids": chunk})
        if not rows:
            continue
        found = {"ids": [row[0] for row in rows]}
        refs: dict[tuple[str, str], RecordRef] = {}
        members, snapshots = _members(fetch(conn, _MEMBERS, found), refs)
        explained = _edges(fetch(conn, _EDGES, found), refs)
        guardrails: dict[str, list[Conflict]] = defaultdict(list)
        for customer_id, data in fetch(conn, _CONFLICTS, found):
            guardrails[customer_id].append(load_conflict(data))
        merged: dict[str, list[str]] = defaultdict(list)
        for customer_id, old_id in fetch(conn, _ALIASES, found):
            merged[customer_id].append(old_id)
        for customer_id, created_at, synced_at in rows:
            out[customer_id] = IndexedCustomer(
                id=customer_id,
                members=tuple(sorted(members.get(customer_id, ()))),
                edges=tuple(explained.get(customer_id, ())),
                conflicts=tuple(guardrails.get(customer_id, ())),
                created_at=created_at,
                synced_at=synced_at,
                aliases=tuple(sorted(merged.get(customer_id, ()))),
                snapshots=snapshots.get(customer_id, {}),
            )
    return out


def load_records(conn: sa.Connection, refs: Sequence[RecordRef]) -> dict[RecordRef, CustomerRecord]:
    """The stored snapshots of ``refs`` (deleted ones included, marked deleted)."""
    out: dict[RecordRef, CustomerRecord] = {}
    for chunk in batched(refs):
        query = sa.select(records.c.snapshot).where(
            ref_in(records.c.provider, records.c.record_id, chunk)
        )
        for snapshot in (conn.execute(query)).scalars():
            record = load_snapshot(snapshot)
            out[record.ref] = record
    return out


def _members(
    rows: Iterable[Sequence[Any]], refs: dict[tuple[str, str], RecordRef]
) -> tuple[Mapping[str, list[RecordRef]], Mapping[str, dict[RecordRef, CustomerRecord]]]:
    """Each customer's live member refs and their stored snapshots, from one query (reads then
    compare fresh records against the snapshots without a second round trip). ``refs``: the
    read's refs by (provider, id), made once for its members and edges."""
    members: dict[str, list[RecordRef]] = defaultdict(list)
    snapshots: dict[str, dict[RecordRef, CustomerRecord]] = defaultdict(dict)
    for customer_id, provider, record_id, snapshot in rows:
        ref = _ref(refs, provider, record_id)
        members[customer_id].append(ref)
        snapshots[customer_id][ref] = load_snapshot(snapshot)
    return members, snapshots


def _edges(
    rows: Iterable[Sequence[Any]], refs: dict[tuple[str, str], RecordRef]
) -> Mapping[str, list[MatchEdge]]:
    out: dict[str, list[MatchEdge]] = defaultdict(list)
    for customer_id, rule, namespace, value, left, left_id, right, right_id in rows:
        out[customer_id].append(
            MatchEdge(
                rule=_RULES[rule],
                namespace=namespace,
                value=value,
                left=_ref(refs, left, left_id),
                right=_ref(refs, right, right_id),
            )
        )
    return out


def _ref(refs: dict[tuple[str, str], RecordRef], provider: str, record_id: str) -> RecordRef:
    """One :class:`RecordRef` per record within a read (a page's edges name each member
    twice or more)."""
    found = refs.get((provider, record_id))
    if found is None:
        found = refs[provider, record_id] = RecordRef(provider, record_id)
    return found


def overrides_naming(conn: sa.Connection, refs: Sequence[RecordRef]) -> list[Override]:
    """Every override naming any of ``refs``, oldest first."""
    ids: set[int] = set()
    for chunk in batched(refs):
        query = sa.select(override_records.c.override_id).where(
            ref_in(override_records.c.provider, override_records.c.record_id, chunk)
        )
        ids.update((conn.execute(query)).scalars())
    return load_overrides(conn, ids)


def load_overrides(conn: sa.Connection, ids: set[int]) -> list[Override]:
    """Overrides by id, oldest first (then in the order they were stored)."""
    found: list[tuple[datetime, int, Override]] = []
    for chunk in batched(sorted(ids)):
        rows = (conn.execute(sa.select(overrides).where(overrides.c.id.in_(chunk)))).all()
        named = (
            conn.execute(
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


def customers_named(conn: sa.Connection, ids: Sequence[str]) -> dict[str, IndexedCustomer]:
    """Each of ``ids`` the index knows -> the live customer it names (following aliases): one
    statement resolves every alias, then the customers load together."""
    asked = list(dict.fromkeys(ids))
    merged: dict[str, str] = {}
    for chunk in batched(asked):
        merged.update((old, new) for old, new in fetch(conn, _ALIASES_OF, {"ids": chunk}))
    live = {i: merged.get(i, i) for i in asked}
    found = load_customers(conn, live.values())
    return {i: found[survivor] for i, survivor in live.items() if survivor in found}


def customer_holding(conn: sa.Connection, ref: RecordRef) -> IndexedCustomer | None:
    """The customer the live record ``ref`` belongs to."""
    found = fetch(conn, _HOLDING, {"provider": ref.provider, "record_id": ref.id})
    customer_id = found[0][0] if found else None  # (provider, record_id) is the key
    if customer_id is None:
        return None
    return load_customers(conn, [customer_id]).get(customer_id)


def customers_with_email(conn: sa.Connection, email: str) -> list[IndexedCustomer]:
    """The customers holding a live record with the matching-form ``email``, by id."""
    return _customers_among(conn, fetch(conn, _WITH_EMAIL, {"email": email}))


def customers_with_key(conn: sa.Connection, namespace: str, value: str) -> list[IndexedCustomer]:
    """The customers holding a live record with the link key ``namespace``/``value``, by id."""
    found = fetch(conn, _WITH_KEY, {"namespace": namespace, "value": value})
    return _customers_among(conn, found)


def _customers_among(
    conn: sa.Connection, rows: Iterable[tuple[str | None, ...]]
) -> list[IndexedCustomer]:
    found = load_customers(conn, {row[0] for row in rows if row[0] is not None})
    return [found[i] for i in sorted(found)]


def page_rows(
    conn: sa.Connection, query: sa.Select[Any], first: int
) -> tuple[Sequence[sa.Row[Any]], dict[str, IndexedCustomer]]:
    """A page's ``first + 1`` ordered rows and the customers of its first ``first``."""
    rows = conn.execute(query).all()
    return rows, load_customers(conn, [row.id for row in rows[:first]])


def overrides_of(conn: sa.Connection, refs: Sequence[RecordRef] | None) -> list[Override]:
    """Every override (``refs`` None) or those naming any of ``refs``."""
    if refs is None:
        return load_overrides(conn, set(conn.execute(sa.select(overrides.c.id)).scalars()))
    return overrides_naming(conn, refs)


def sync_cursor(conn: sa.Connection, provider: str, stream: str) -> SyncCursor | None:
    query = sa.select(sync_cursors).where(
        sync_cursors.c.provider == provider, sync_cursors.c.stream == stream
    )
    row = conn.execute(query).one_or_none()
    if row is None:
        return None
    return SyncCursor(
        row.provider, row.stream, row.position, row.complete, row.records, row.updated_at
    )


def index_stats(conn: sa.Connection) -> IndexStats:
    query = (
        sa.select(records.c.provider, sa.func.count())
        .where(records.c.deleted.is_(False))
        .group_by(records.c.provider)
    )
    per_provider = {provider: n for provider, n in conn.execute(query)}
    count = conn.execute(sa.select(sa.func.count()).select_from(customers)).scalar()
    return IndexStats(
        records=sum(per_provider.values()),
        customers=count or 0,
        records_per_provider=dict(sorted(per_provider.items())),
    )
