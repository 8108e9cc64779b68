"""FirstOfficer's customers by id, with its uniqueness rules, lookups and id-ordered pages."""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Iterator, Mapping, Sequence
from typing import Any, Final

from gateway.providers.firstofficer.simulator.shape import Refused
from gateway.sandbox.coerce import email_key
from gateway.sandbox.index import KeyIndex

FIRST_ID: Final = 1340573
"""Where generated ids start: the docs' example id, so generated ids look like real ones."""

_UNIQUE: Final = {
    "email": "A customer with this email already exists.",
    "stripe_id": "A customer with this Stripe id already exists.",
}
"""Fields no two customers may share, and FirstOfficer's answer when one would."""


def _lookup_key(field: str, value: str) -> tuple[str, str]:
    return field, email_key(value) if field == "email" else value


def _lookup_keys(customer: Mapping[str, Any]) -> Iterator[Hashable]:
    """What a customer is found by: its email (as compared), Stripe id and extra id."""
    for field in ("email", "stripe_id", "extra_id"):
        if customer[field] is not None:
            yield _lookup_key(field, customer[field])


class CustomerStore:
    """The simulator's customers by id.

    Lookups by email, Stripe id and extra id use one :class:`KeyIndex`, lists a cached id order;
    change customers through :meth:`add` and :meth:`update` only, which keep both current.
    """

    def __init__(self) -> None:
        self.by_id: dict[int, dict[str, Any]] = {}
        self._index: KeyIndex[Mapping[str, Any]] = KeyIndex(_lookup_keys)
        self._ids: list[int] | None = None
        """``by_id``'s keys sorted, cached until the next add."""

    def next_id(self) -> int:
        ids = self.sorted_ids()
        return ids[-1] + 1 if ids else FIRST_ID

    def refuse_taken(self, field: str, value: str, own_id: int | None = None) -> None:
        """:class:`Refused` when another customer than ``own_id`` holds ``value`` as ``field``."""
        owner = self.first(field, value)
        if owner is not None and owner["id"] != own_id:
            raise Refused(field, _UNIQUE[field])

    def add(self, customer: dict[str, Any]) -> dict[str, Any]:
        """Store a full customer object (see ``seed_record``); a clash raises :class:`Refused`."""
        if customer["id"] is None:
            customer["id"] = self.next_id()
        if customer["id"] in self.by_id:
            raise Refused("id", f"duplicate id {customer['id']}")
        for field in _UNIQUE:
            if customer[field] is not None:
                self.refuse_taken(field, customer[field])
        self.by_id[customer["id"]] = customer
        self._index.put(str(customer["id"]), customer)
        if self._ids is not None:
            if self._ids and customer["id"] < self._ids[-1]:
                bisect.insort(self._ids, customer["id"])
            else:
                self._ids.append(customer["id"])
        return customer

    def update(self, customer: dict[str, Any], changes: Mapping[str, Any]) -> None:
        """Apply ``changes`` to a stored customer, keeping the index current."""
        customer.update(changes)
        self._index.put(str(customer["id"]), customer)

    def first(self, field: str, value: str) -> dict[str, Any] | None:
        """The lowest-id customer whose ``field`` (email, stripe_id or extra_id) is ``value``, as
        a scan in id order finds it (emails compared trimmed and case-insensitively)."""
        ids = self._index.get(_lookup_key(field, value))
        return self.by_id[min(map(int, ids))] if ids else None

    def resolve(self, identifier: str) -> dict[str, Any] | None:
        """The documented resolution order: integer id, Stripe id, email, then extra_id."""
        if identifier.isascii() and identifier.isdigit():
            return self.by_id.get(int(identifier))
        if identifier.startswith("cus_"):
            return self.first("stripe_id", identifier)
        if "@" in identifier:
            return self.first("email", identifier)
        return self.first("extra_id", identifier)

    def sorted_ids(self) -> Sequence[int]:
        """Every id, ascending (the cached list itself: read only)."""
        if self._ids is None:
            self._ids = sorted(self.by_id)
        return self._ids

    def page_after(self, after: int | None, limit: int) -> tuple[list[dict[str, Any]], bool]:
        """Up to ``limit`` customers with ids above ``after`` (all when None) and whether more
        follow."""
        ids = self.sorted_ids()
        start = 0 if after is None else bisect.bisect_right(ids, after)
        return [self.by_id[key] for key in ids[start : start + limit]], len(ids) - start > limit
