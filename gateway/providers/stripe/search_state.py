"""What the Stripe adapter remembers between requests about search: its own recent writes
(search lags them) and whether the account offers search at all."""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Final

from gateway.errors import ErrorKind, ProviderError
from gateway.model import Lookup

__all__ = [
    "RECENT_MAX",
    "RECENT_TTL",
    "SEARCH_REPROBE_AFTER",
    "RecentKey",
    "RecentWrites",
    "SearchAvailability",
    "search_refused",
]

RECENT_TTL: Final = 600.0
RECENT_MAX: Final = 10_000
SEARCH_REPROBE_AFTER: Final = 600.0
"""Seconds email lookups use the list filter after search was refused, before search is tried
again (an account can gain search, a fake can be upgraded)."""
_SEARCH_REFUSED: Final = re.compile(
    r"\bsearch\b.*\b(?:not\s+(?:supported|available|enabled)|unavailable|unsupported)",
    re.IGNORECASE | re.DOTALL,
)

RecentKey = tuple[Lookup, str]


class RecentWrites:
    """Ids this adapter created, updated or deleted lately, indexed by email and external id.

    Bounded in time (``ttl`` seconds) and size (``max_entries``, least recently written
    dropped first): it only has to bridge search's indexing lag.
    """

    def __init__(
        self,
        ttl: float = RECENT_TTL,
        max_entries: int = RECENT_MAX,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, tuple[RecentKey, ...]]] = OrderedDict()
        self._index: dict[RecentKey, dict[str, None]] = {}

    def __len__(self) -> int:
        self._expire()
        return len(self._entries)

    def __contains__(self, customer_id: object) -> bool:
        self._expire()
        return customer_id in self._entries

    def remember(self, customer_id: str, keys: Iterable[RecentKey]) -> None:
        """Record a write; ``keys`` are the customer's current (kind, normalised value) pairs."""
        self._forget(customer_id)
        keys = tuple(dict.fromkeys(keys))
        self._entries[customer_id] = (self.clock(), keys)
        for key in keys:
            self._index.setdefault(key, {})[customer_id] = None
        self._expire()

    def ids_for(self, by: Lookup, key: str) -> list[str]:
        self._expire()
        return list(self._index.get((by, key), ()))

    def _forget(self, customer_id: str) -> None:
        entry = self._entries.pop(customer_id, None)
        if entry is None:
            return
        for key in entry[1]:
            ids = self._index.get(key)
            if ids is not None:
                ids.pop(customer_id, None)
                if not ids:
                    del self._index[key]

    def _expire(self) -> None:
        cutoff = self.clock() - self.ttl
        while self._entries:
            customer_id, (written, _) = next(iter(self._entries.items()))
            if written >= cutoff and len(self._entries) <= self.max_entries:
                break
            self._forget(customer_id)


def search_refused(error: ProviderError) -> bool:
    """Whether an error from the search route says search itself is missing on this account.

    Search answers "no matches" with an empty list, never 404, so a 404 means the route is
    absent (a Stripe-compatible fake without search). Stripe refuses search with a 400
    ``invalid_request_error`` where the account cannot use it: "Search is not supported on api
    version …" (versions before 2020-08-27) or, for merchants in India, a "not available"
    message (its exact text is not in the reference; matched loosely).
    """
    if error.kind is ErrorKind.NOT_FOUND:
        return True
    return error.kind is ErrorKind.BAD_REQUEST and bool(_SEARCH_REFUSED.search(error.message))


class SearchAvailability:
    """Whether customer search works on this account, as last seen by this adapter.

    Once refused, search is skipped for ``reprobe_after`` seconds; the next lookup after that
    tries it again, and a success clears the refusal.
    """

    def __init__(
        self,
        reprobe_after: float = SEARCH_REPROBE_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reprobe_after = reprobe_after
        self.clock = clock
        self.reason: str | None = None
        """Why search was refused (status and message), while it is."""
        self._refused_at: float | None = None

    @property
    def refused(self) -> bool:
        return self._refused_at is not None

    def worth_trying(self) -> bool:
        """Search was never refused, or the refusal is old enough to probe again."""
        return self._refused_at is None or self.clock() - self._refused_at >= self.reprobe_after

    def refuse(self, reason: str) -> bool:
        """Record a refusal (restarting the wait); ``True`` when search was usable until now."""
        first = self._refused_at is None
        self._refused_at = self.clock()
        self.reason = reason
        return first

    def accept(self) -> bool:
        """Record a working search; ``True`` when it had been refused until now."""
        was_refused = self._refused_at is not None
        self._refused_at = None
        self.reason = None
        return was_refused
