"""Customers in memory: records, their newest-first order, and secondary indexes kept on write."""

from __future__ import annotations

import itertools
import secrets
import string
import time
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.providers.stripe_like.simulator.errors import missing_customer
from gateway.sandbox.index import KeyIndex

JSON = dict[str, Any]
_ALNUM = string.ascii_letters + string.digits


def generate_id(prefix: str, length: int = 14) -> str:
    """An id shaped like Stripe's: prefix plus random letters and digits."""
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


@dataclass(slots=True)
class StoredCustomer:
    """One customer with its list position and the versions the search index has seen."""

    obj: JSON
    seq: int
    deleted: bool = False
    versions: list[tuple[float, JSON]] = field(default_factory=list)
    """(time written, object) pairs; search sees the newest one older than the lag."""

    @property
    def id(self) -> str:
        return str(self.obj["id"])

    def sort_key(self) -> tuple[int, int]:
        """Newest first: created descending, then the later insert first."""
        return (-int(self.obj.get("created") or 0), -self.seq)


@dataclass(frozen=True, slots=True)
class _Index:
    """A :class:`KeyIndex` over customer objects; ``versions`` indexes every version search
    can still see (so a lagging search finds a record by its old keys), otherwise only the
    current object of a live record."""

    keys: KeyIndex[JSON]
    versions: bool

    def update(self, record: StoredCustomer) -> None:
        if self.versions:
            keys_of = self.keys.keys_of
            self.keys.replace(record.id, (k for _, obj in record.versions for k in keys_of(obj)))
        else:
            self.keys.put(record.id, None if record.deleted else record.obj)


class CustomerStore:
    """In-memory customers, deleted ones kept (Stripe still retrieves them as deleted).

    The newest-first order is cached (rebuilt after a write that changes it) and named indexes
    are kept current on every write, so lookups cost what they find, not what the store holds.
    Objects are replaced, never edited in place: call :meth:`save` after changing
    ``record.obj``.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.search_lag_seconds = 0.0
        """Writes younger than this are not yet visible to search (Stripe's index lags)."""
        self._records: dict[str, StoredCustomer] = {}
        self._seq = itertools.count()
        self._order: list[StoredCustomer] | None = None
        self._positions: dict[str, int] = {}
        self._sorted_by: dict[str, tuple[int, int]] = {}
        self._indexes: dict[str, _Index] = {}

    def __len__(self) -> int:
        return len(self._records)

    def add(self, obj: JSON, *, deleted: bool = False, indexed: bool = False) -> StoredCustomer:
        """Store a new customer; seeds are ``indexed`` (searchable at once, whatever the lag)."""
        record = StoredCustomer(obj=obj, seq=next(self._seq), deleted=deleted)
        record.versions.append((float("-inf") if indexed else self.clock(), dict(obj)))
        self._records[record.id] = record
        self._order = None
        self._reindex(record)  # indexes are by id: a replaced record's entries go with it
        return record

    def get(self, customer_id: str) -> StoredCustomer | None:
        return self._records.get(customer_id)

    def live(self, customer_id: str, param: str = "id") -> StoredCustomer:
        """The customer, or Stripe's 404 if it never existed or was deleted."""
        record = self._records.get(customer_id)
        if record is None or record.deleted:
            raise missing_customer(customer_id, param)
        return record

    def save(self, record: StoredCustomer) -> None:
        """Record a new version of ``record.obj`` for the search index."""
        now = self.clock()
        record.versions.append((now, dict(record.obj)))
        # Keep only what search can still see: the newest version past the lag, and younger ones.
        horizon = now - self.search_lag_seconds
        settled = [i for i, (at, _) in enumerate(record.versions) if at <= horizon]
        if settled:
            del record.versions[: settled[-1]]
        if self._order is not None and self._sorted_by.get(record.id) != record.sort_key():
            self._order = None
        self._reindex(record)

    def delete(self, record: StoredCustomer) -> None:
        record.deleted = True
        record.versions.clear()
        self._reindex(record)

    def _reindex(self, record: StoredCustomer) -> None:
        for index in self._indexes.values():
            index.update(record)

    def ordered(self) -> list[StoredCustomer]:
        """Every customer, deleted ones included, newest first (a copy of the cached order)."""
        return list(self.in_order())

    def in_order(self) -> Sequence[StoredCustomer]:
        """The cached newest-first order itself (read only; rebuilt after writes change it)."""
        if self._order is None:
            order = sorted(self._records.values(), key=StoredCustomer.sort_key)
            self._positions = {record.id: i for i, record in enumerate(order)}
            self._sorted_by = {record.id: record.sort_key() for record in order}
            self._order = order
        return self._order

    def positions(self) -> Mapping[str, int]:
        """Each customer's place in :meth:`ordered` (cursors are placed by it)."""
        self.in_order()
        return self._positions

    def add_index(
        self, name: str, keys_of: Callable[[JSON], Iterable[Hashable]], *, versions: bool = False
    ) -> None:
        """Index the customers by ``keys_of`` (over every searchable version with
        ``versions``), built once here and kept current on every write."""
        index = _Index(KeyIndex(keys_of), versions)
        for record in self._records.values():
            index.update(record)
        self._indexes[name] = index

    def lookup(self, name: str, keys: Iterable[Hashable]) -> list[StoredCustomer]:
        """Candidates for any of ``keys`` in index ``name``, in list order; callers verify them."""
        index = self._indexes[name].keys
        found: set[str] = set()
        for key in keys:
            found.update(index.get(key))
        positions = self.positions()
        return [self._records[i] for i in sorted(found, key=positions.__getitem__)]

    def id_exists(self, customer_id: str) -> bool:
        return customer_id in self._records

    def searchable(
        self, candidates: Iterable[StoredCustomer] | None = None
    ) -> list[tuple[StoredCustomer, JSON]]:
        """(record, the version search sees) in list order; unindexed and deleted ones left out.

        ``candidates`` (in list order) narrows the records considered; default: all of them.
        """
        horizon = self.clock() - self.search_lag_seconds
        out = []
        for record in self.in_order() if candidates is None else candidates:
            if record.deleted:
                continue
            visible = [obj for at, obj in record.versions if at <= horizon]
            if visible:
                out.append((record, visible[-1]))
        return out

    def new_id(self, prefix: str = "cus_") -> str:
        while True:
            candidate = generate_id(prefix)
            if candidate not in self._records:
                return candidate
