"""One secondary index for every simulator store: record ids by the keys a record yields.

Stores call :meth:`KeyIndex.put` on every write, so a lookup costs what it finds instead of a
scan. An index is a candidate filter: callers re-check candidates with their own predicate, so
they answer exactly as a scan would.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

__all__ = ["KeyIndex"]

R = TypeVar("R")


class KeyIndex(Generic[R]):
    """Record ids by key; ``keys_of`` says which keys a record answers to."""

    __slots__ = ("_ids", "_keys", "keys_of")

    def __init__(self, keys_of: Callable[[R], Iterable[Hashable]]) -> None:
        self.keys_of = keys_of
        self._ids: dict[Hashable, set[str]] = {}
        self._keys: dict[str, frozenset[Hashable]] = {}

    def put(self, record_id: str, record: R | None) -> None:
        """Index ``record`` under ``record_id``; ``None`` drops the id (the record is gone)."""
        self.replace(record_id, () if record is None else self.keys_of(record))

    def replace(self, record_id: str, keys: Iterable[Hashable]) -> None:
        """Make ``keys`` exactly the keys ``record_id`` is found by."""
        new = frozenset(keys)
        old = self._keys.get(record_id, frozenset())
        if new == old:
            return
        for key in old - new:
            ids = self._ids[key]
            ids.discard(record_id)
            if not ids:
                del self._ids[key]
        for key in new - old:
            self._ids.setdefault(key, set()).add(record_id)
        if new:
            self._keys[record_id] = new
        else:
            self._keys.pop(record_id, None)

    def get(self, key: Hashable) -> frozenset[str]:
        """The ids of records answering to ``key`` (a copy: safe to hold across writes)."""
        return frozenset(self._ids.get(key, ()))

    def __len__(self) -> int:
        return len(self._keys)
