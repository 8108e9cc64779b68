"""The Automatic Persisted Queries store: query text by sha256, bounded, per process.

Anyone can register a query (that is the protocol), so the store is bounded: the least recently
used entry goes when it is full. It lives in the process (each ``serve --workers`` worker and
each replica has its own, so a client may see ``PersistedQueryNotFound`` once per process; it
then resends the text). A shared store (Redis) comes with horizontal scale-out.
"""

from __future__ import annotations

from collections import OrderedDict

__all__ = ["QueryCache"]


class QueryCache:
    """Query text by sha256 hex; at most ``size`` entries, least recently used dropped first.
    Not locked: the gateway's event loop is the only caller."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"size must be at least 1, got {size}")
        self.size = size
        self._entries: OrderedDict[str, str] = OrderedDict()

    def get(self, sha256: str) -> str | None:
        query = self._entries.get(sha256)
        if query is not None:
            self._entries.move_to_end(sha256)
        return query

    def put(self, sha256: str, query: str) -> None:
        self._entries[sha256] = query
        self._entries.move_to_end(sha256)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, sha256: object) -> bool:
        return sha256 in self._entries
