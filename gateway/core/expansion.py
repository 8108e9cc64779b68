"""Expansion: from one key to every record of one customer, hop by hop, through the loaders.

Fetch by the starting keys in every provider that supports them, collect the new keys the
records reveal (emails, linked ids), fetch those, until nothing is new or a bound (hops, records)
is reached. Each hop's loads are issued together, so the dataloaders batch them (and batch them
with sibling customers being expanded at the same time).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from gateway.config import IdentitySettings
from gateway.core.loaders import Loaders
from gateway.errors import ProviderError
from gateway.identity import MergedCustomer, normalise_email, plan_next_hop
from gateway.model import CustomerRecord, Lookup, RecordRef

Key = tuple[Lookup, str]


@dataclass
class Expansion:
    records: dict[RecordRef, CustomerRecord] = field(default_factory=dict)
    errors: dict[str, ProviderError] = field(default_factory=dict)
    """The first failure per provider; its fields are reported as degraded."""
    truncated: bool = False
    """A bound (hops or records) stopped the expansion before it ran out of keys."""

    def add(self, records: Iterable[CustomerRecord]) -> None:
        for record in records:
            if not record.deleted:
                self.records.setdefault(record.ref, record)


async def expand(
    loaders: Loaders,
    identity: IdentitySettings,
    *,
    keys: Iterable[Key] = (),
    refs: Iterable[RecordRef] = (),
    seed: Iterable[CustomerRecord] = (),
) -> Expansion:
    """Collect every record reachable from ``keys`` (provider-agnostic lookups), ``refs``
    (records by their provider's own id) and ``seed`` (records already in hand)."""
    result = Expansion()
    seed = list(seed)
    result.add(seed)
    loaders.prime(seed)
    hops = 0
    refs = [ref for ref in refs if ref.provider in loaders.adapters]
    if refs:
        hops = 1
        outcomes = await asyncio.gather(
            *(loaders.load(ref.provider, Lookup.ID, ref.id) for ref in refs)
        )
        for ref, outcome in zip(refs, outcomes, strict=True):
            if outcome.error is not None:
                result.errors.setdefault(ref.provider, outcome.error)
            result.add(outcome.records)
    seen: set[Key] = set()
    frontier: set[Key] = {k for k in (_canonical(key, identity) for key in keys) if k}
    frontier |= plan_next_hop(seen, list(result.records.values()), identity)
    deferred: list[Call] = []
    while frontier or deferred:
        if frontier and (hops >= identity.max_hops or len(result.records) >= identity.max_records):
            result.truncated = True
            frontier = set()
        if frontier:
            hops += 1
        seen |= frontier
        calls = [
            (provider, by, value)
            for by, value in sorted(frontier)
            for provider in loaders.providers_for(by)
        ]
        first, later = _split_by_strength(calls, loaders)
        # Last hop's deferred lookups ride along with this hop's: by now they are primed
        # (answered from the cache) or they need the call anyway, so they cost no extra round.
        stage, deferred = first + deferred, later
        outcomes = await asyncio.gather(
            *(loaders.load(provider, by, value) for provider, by, value in stage)
        )
        for (provider, _, _), outcome in zip(stage, outcomes, strict=True):
            if outcome.error is not None:
                result.errors.setdefault(provider, outcome.error)
            result.add(outcome.records)
        # Once truncated, only the deferred lookups are left to make: planning again would
        # give back the keys just dropped, forever (a loop that never yields to the event loop).
        if not result.truncated:
            frontier = plan_next_hop(seen, list(result.records.values()), identity)
    return result


# Strongest first: a provider's own id, then a Stripe id, the company id, and an email.
_STRENGTH = {Lookup.ID: 0, Lookup.STRIPE_ID: 1, Lookup.EXTERNAL_ID: 2, Lookup.EMAIL: 3}

Call = tuple[str, Lookup, str]


def _split_by_strength(calls: list[Call], loaders: Loaders) -> tuple[list[Call], list[Call]]:
    """Defer a provider's weaker *unique* lookups behind its strongest one in this hop.

    Keys that are unique in a provider (FirstOfficer's Stripe id, extra id and email all name
    one record) almost always lead to the same record: fetch the strongest, and the others are
    primed by its answer and cost nothing. Only keys the answer does not cover are fetched, in
    a second stage of the same hop. Non-unique lookups (searches) always go in the first stage.
    """
    strongest: dict[str, int] = {}
    for provider, by, _ in calls:
        if by in loaders.adapters[provider].capabilities.unique_lookups:
            strongest[provider] = min(strongest.get(provider, 99), _STRENGTH[by])
    first: list[Call] = []
    deferred: list[Call] = []
    for call in calls:
        provider, by, _ = call
        unique = by in loaders.adapters[provider].capabilities.unique_lookups
        weaker = unique and _STRENGTH[by] > strongest[provider]
        (deferred if weaker else first).append(call)
    return first, deferred


def _canonical(key: Key, identity: IdentitySettings) -> Key | None:
    by, value = key
    value = value.strip()
    if by is Lookup.EMAIL:
        email = normalise_email(value, identity.placeholder_emails)
        return (by, email) if email else None
    return (by, value) if value else None


def pick_customer(
    merged: list[MergedCustomer],
    identity: IdentitySettings,
    *,
    want: RecordRef | None = None,
    email: str | None = None,
) -> MergedCustomer | None:
    """The merged customer the caller asked for: the one holding ``want``, else one holding a
    record with ``email`` (normalised), else the only one."""
    for customer in merged:
        if want is not None and any(r.ref == want for r in customer.records):
            return customer
    if want is not None:
        return None
    wanted = normalise_email(email, identity.placeholder_emails) if email else None
    if wanted is not None:
        for customer in merged:
            if any(
                normalise_email(r.email, identity.placeholder_emails) == wanted
                for r in customer.records
            ):
                return customer
        return None
    return merged[0] if len(merged) == 1 else None
