"""Stable customer ids: which id each recomputed cluster carries. Pure, no I/O.

A customer's id is minted once, when the index first sees its cluster, as
``encode_customer_id(anchor)`` (so ids issued before the index keep working, and two replicas
discovering the same customer mint the same id), then stored and never recomputed:

* Every old customer of the component *claims* the new cluster holding its oldest live record
  (``created_at`` ascending, unknown last, then ref). A customer with no live record left is
  emptied: its id disappears.
* A cluster claimed by several old customers is a merge: the one minted first (then the
  smallest id) keeps its id, the others become aliases of it.
* A cluster nobody claims (new records, or the parts of a split that did not keep the oldest
  record) gets a fresh id: ``encode_customer_id`` of its first member, in anchor order, whose
  id is free; if every member's is taken, of the anchor with ``~2``, ``~3``, ... appended to its
  record id (still a well-formed ``cgw_`` id). Taken means: a live customer outside the
  component, an id kept or aliased in this round, or one already minted in it. An id that is
  only an alias (or was emptied) is free: minting it again revives it for the records it named.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gateway.identity.ids import encode_customer_id
from gateway.model import RecordRef

__all__ = ["Assignment", "NewCluster", "OldCustomer", "assign_ids", "candidates", "record_age"]

_LATEST = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class OldCustomer:
    id: str
    minted_at: datetime
    members: frozenset[RecordRef]
    """Its records before the change (deleted ones included: they no longer claim)."""


@dataclass(frozen=True, slots=True)
class NewCluster:
    members: tuple[RecordRef, ...]
    """In anchor order, the anchor first (``MergedCustomer.external_ids``)."""


@dataclass(frozen=True, slots=True)
class Assignment:
    ids: tuple[str, ...]
    """Per new cluster, in the order given."""
    minted_at: tuple[datetime, ...]
    """Per new cluster: the kept customer's mint time, or ``now`` for a fresh id."""
    fresh: frozenset[str] = frozenset()
    """Ids minted in this round."""
    aliases: Mapping[str, str] = field(default_factory=dict)
    """Merged-away id -> surviving id."""
    emptied: frozenset[str] = frozenset()
    """Old ids with no live record left."""


def record_age(
    created: Mapping[RecordRef, datetime | None],
) -> Callable[[RecordRef], tuple[bool, datetime, RecordRef]]:
    """Sort key for "oldest record first": ``created_at`` ascending, unknown last, then ref
    (naive times count as UTC, as the resolver reads them)."""

    def key(ref: RecordRef) -> tuple[bool, datetime, RecordRef]:
        when = created.get(ref)
        if when is None:
            return (True, _LATEST, ref)
        return (False, when if when.tzinfo is not None else when.replace(tzinfo=UTC), ref)

    return key


def candidates(cluster: NewCluster) -> Iterator[str]:
    """The ids a fresh cluster may take, best first (members' ids, then the anchor's ``~n``)."""
    for ref in cluster.members:
        yield encode_customer_id(ref)
    anchor = cluster.members[0]
    for n in range(2, len(cluster.members) + 2):
        yield encode_customer_id(RecordRef(anchor.provider, f"{anchor.id}~{n}"))


def assign_ids(
    old: Collection[OldCustomer],
    new: Sequence[NewCluster],
    created: Mapping[RecordRef, datetime | None],
    taken: Collection[str],
    now: datetime,
) -> Assignment:
    """Ids for ``new`` (the component's clusters after the change), given the customers the
    component held before. ``taken``: ids of live customers outside the component among
    :func:`candidates` of the clusters. Deterministic: it depends on the sets given, not their
    order."""
    age = record_age(created)
    cluster_of = {ref: index for index, cluster in enumerate(new) for ref in cluster.members}
    claims: dict[int, list[OldCustomer]] = {}
    emptied: set[str] = set()
    for customer in sorted(old, key=lambda c: c.id):
        live = [ref for ref in customer.members if ref in cluster_of]
        if not live:
            emptied.add(customer.id)
            continue
        claims.setdefault(cluster_of[min(live, key=age)], []).append(customer)

    ids: list[str | None] = [None] * len(new)
    minted_at: list[datetime] = [now] * len(new)
    aliases: dict[str, str] = {}
    for index, claimants in claims.items():
        survivor, *merged = sorted(claimants, key=lambda c: (c.minted_at, c.id))
        ids[index], minted_at[index] = survivor.id, survivor.minted_at
        aliases.update((c.id, survivor.id) for c in merged)

    unavailable = set(taken) | {i for i in ids if i is not None} | set(aliases)
    fresh: set[str] = set()
    unclaimed = sorted((i for i in range(len(new)) if ids[i] is None), key=lambda i: new[i].members)
    for index in unclaimed:
        chosen = next((c for c in candidates(new[index]) if c not in unavailable), None)
        if chosen is None:
            raise RuntimeError(f"no free customer id for {new[index].members[0]}")
        ids[index] = chosen
        unavailable.add(chosen)
        fresh.add(chosen)
    return Assignment(
        ids=tuple(i for i in ids if i is not None),
        minted_at=tuple(minted_at),
        fresh=frozenset(fresh),
        aliases=aliases,
        emptied=frozenset(emptied - fresh),
    )
