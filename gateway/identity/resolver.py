"""Entity resolution: which provider records are one customer.

Records are nodes of a union-find; a record fetched twice (same :class:`RecordRef`) is one node
and deleted records are left out. Three kinds of edge join nodes, transitively:

* ``OVERRIDE``: an operator's ``LINK`` that still holds (:func:`decide`). Its value is the
  override's reason (trimmed; ``"manual link"`` when blank), no namespace.
* ``LINKED_ID``: both records hold the same link key (:func:`record_keys`).
* ``EMAIL``: same email in matching form.

Overrides and linked ids are strong evidence, applied first and always, even when they put more
than ``max_records_per_provider`` records of one provider together (reported as a ``GUARDRAIL``
conflict on that customer). Emails are weak evidence: taken email by email (sorted), each record
of an email tries to join the ones before it, records taken earliest ``created_at`` first (naive
as UTC, unknown after every known one), then by ref, so when an email is shared too widely the
oldest accounts are the ones that merge. A join that would put more than
``max_records_per_provider`` records of a provider into one customer is dropped and reported on
both customers as a ``GUARDRAIL`` conflict naming the email and the two records (by ref), once
per email and pair of customers. A record under an effective ``UNLINK`` override takes no email
or linked-id edge at all: it stands alone unless a later ``LINK`` names it.

Everything is sorted before it is used, so the output depends only on the set of records and
of overrides, never on their order. The edges a customer reports are, per shared key and per
customer, a star from the key's smallest record to the others, plus one ``OVERRIDE`` edge per
pair an effective ``LINK`` joins (the latest such ``LINK`` giving the value): enough to explain
every merge, no more.
"""

from __future__ import annotations

import dataclasses
import enum
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from gateway.config import IdentitySettings
from gateway.identity.keys import MatchKey, email_key, record_keys
from gateway.identity.overrides import Override, decide
from gateway.identity.survivorship import (
    Conflict,
    ConflictKind,
    FieldValue,
    Survivorship,
    provider_rank,
    survive,
)
from gateway.identity.times import as_utc
from gateway.model import CustomerRecord, RecordRef

__all__ = ["MatchEdge", "MatchRule", "MergedCustomer", "assemble", "resolve"]


class MatchRule(enum.StrEnum):
    LINKED_ID = "LINKED_ID"
    EMAIL = "EMAIL"
    OVERRIDE = "OVERRIDE"
    """An operator's ``LINK`` override; the edge's value is its reason."""


_UNNAMED_LINK: Final = "manual link"
_UNKNOWN_TIME: Final = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True, order=True)
class MatchEdge:
    """Why two records are one customer: a shared link key or email, or an operator's link."""

    rule: MatchRule
    namespace: str | None
    """The link namespace; ``None`` for an email or an override."""
    value: str
    left: RecordRef
    right: RecordRef


@dataclass(frozen=True, slots=True)
class MergedCustomer:
    """One customer across providers, with the evidence and the surviving fields."""

    anchor: RecordRef
    """Highest-priority provider present (stripe, lago, chartmogul, firstofficer, tofupay),
    then the smallest id: the stable handle the public customer id is made from."""
    records: tuple[CustomerRecord, ...]
    """Sorted by :class:`RecordRef`."""
    edges: tuple[MatchEdge, ...]
    guardrails: tuple[Conflict, ...]
    """Why records were kept apart, or more than the limit kept together."""
    survived: Survivorship
    """The surviving fields and their disagreements, each field decided when first read."""
    external_ids: tuple[RecordRef, ...]
    """Every record's ref in anchor order (the anchor first)."""
    created_at: datetime | None
    """The earliest ``created_at`` of the records."""

    @property
    def conflicts(self) -> tuple[Conflict, ...]:
        """The guardrails, then the fields records disagree on."""
        return (*self.guardrails, *self.survived.conflicts)

    @property
    def fields(self) -> Mapping[str, FieldValue]:
        return self.survived.fields

    @property
    def emails(self) -> tuple[str, ...]:
        """Distinct usable emails, the surviving one first."""
        return self.survived.emails

    def records_for(self, provider: str) -> tuple[CustomerRecord, ...]:
        return tuple(r for r in self.records if r.provider == provider)


class _UnionFind:
    """Union-find that also counts each component's records per provider."""

    def __init__(self, refs: Iterable[RecordRef]) -> None:
        self._parent: dict[RecordRef, RecordRef] = {}
        self.counts: dict[RecordRef, Counter[str]] = {}
        for ref in refs:
            self._parent[ref] = ref
            self.counts[ref] = Counter({ref.provider: 1})

    def find(self, ref: RecordRef) -> RecordRef:
        root = ref
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[ref] != root:  # path compression
            self._parent[ref], ref = root, self._parent[ref]
        return root

    def union(self, a: RecordRef, b: RecordRef) -> RecordRef:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        keep, gone = (ra, rb) if ra < rb else (rb, ra)
        self._parent[gone] = keep
        self.counts[keep] += self.counts.pop(gone)
        return keep

    def over_limit(self, ra: RecordRef, rb: RecordRef, limit: int) -> str | None:
        """The first provider both roots hold whose joined count would exceed ``limit``."""
        a, b = self.counts[ra], self.counts[rb]
        for provider in sorted(a.keys() & b.keys(), key=provider_rank):
            if a[provider] + b[provider] > limit:
                return provider
        return None


@dataclass(frozen=True, slots=True)
class _Dropped:
    email: str
    left: RecordRef
    right: RecordRef
    provider: str


def _canonical(records: Iterable[CustomerRecord]) -> dict[RecordRef, CustomerRecord]:
    """One record per ref, deleted ones left out.

    Copies of one ref are expected to be equal; if they differ, the live copy with the smallest
    ``repr`` is kept, which depends only on the copies, not their order.
    """
    copies: dict[RecordRef, list[CustomerRecord]] = defaultdict(list)
    for record in records:
        copies[record.ref].append(record)
    chosen = {
        # repr() of a record (raw object included) is costly: only for real duplicates.
        ref: found[0] if len(found) == 1 else min(found, key=lambda r: (r.deleted, repr(r)))
        for ref, found in copies.items()
    }
    return {ref: chosen[ref] for ref in sorted(chosen) if not chosen[ref].deleted}


def resolve(
    records: Iterable[CustomerRecord],
    settings: IdentitySettings,
    overrides: Iterable[Override] = (),
) -> list[MergedCustomer]:
    """Group records into customers, honouring ``overrides``, sorted by anchor; deterministic
    for any order of records and of overrides."""
    nodes = _canonical(records)
    decisions = decide(overrides, nodes)
    limit = settings.max_records_per_provider
    links: dict[MatchKey, list[RecordRef]] = defaultdict(list)
    emails: dict[str, list[RecordRef]] = defaultdict(list)
    for ref, record in nodes.items():  # refs ascending, so every member list is sorted
        if ref in decisions.alone:
            continue
        for key in record_keys(record, settings):
            links[key].append(ref)
        if (email := email_key(record, settings)) is not None:
            emails[email].append(ref)

    uf = _UnionFind(nodes)
    manual = _override_edges(decisions.links)
    for edge in manual:
        uf.union(edge.left, edge.right)
    for key in sorted(links):
        first, *others = links[key]
        for other in others:
            uf.union(first, other)
    dropped = _join_by_email(uf, emails, limit, {ref: _join_rank(r) for ref, r in nodes.items()})

    groups: dict[RecordRef, list[RecordRef]] = defaultdict(list)
    for ref in nodes:
        groups[uf.find(ref)].append(ref)
    edges = _edges(uf, links, emails, manual)
    guardrails = _dropped_conflicts(uf, dropped, limit)

    customers = [
        _customer(
            [nodes[ref] for ref in members],
            edges.get(root, []),
            guardrails.get(root, []),
            settings,
        )
        for root, members in groups.items()
    ]
    return sorted(customers, key=lambda c: (provider_rank(c.anchor.provider), c.anchor.id))


def _override_edges(links: Iterable[Override]) -> list[MatchEdge]:
    """One edge per pair of records the effective ``LINK`` overrides join (a star from each
    override's smallest record), sorted; a pair linked again takes the later reason."""
    pairs: dict[tuple[RecordRef, RecordRef], str] = {}
    for override in links:  # oldest first, so the latest reason wins
        first, *others = sorted(set(override.records))
        for other in others:
            pairs[first, other] = override.reason.strip() or _UNNAMED_LINK
    return [
        MatchEdge(MatchRule.OVERRIDE, None, value, left, right)
        for (left, right), value in sorted(pairs.items())
    ]


def _join_rank(record: CustomerRecord) -> tuple[bool, datetime, RecordRef]:
    """Email join order: earliest created first, unknown creation last, then by ref."""
    created = record.created_at
    return (created is None, _UNKNOWN_TIME if created is None else as_utc(created), record.ref)


def _join_by_email(
    uf: _UnionFind,
    emails: Mapping[str, list[RecordRef]],
    limit: int,
    rank: Mapping[RecordRef, tuple[bool, datetime, RecordRef]],
) -> list[_Dropped]:
    """Apply email edges within the guardrail, oldest records first; return the joins it
    refused, each pair by ref."""
    dropped: list[_Dropped] = []
    for email in sorted(emails):
        members = sorted(emails[email], key=rank.__getitem__)
        for index, right in enumerate(members):
            refused: set[RecordRef] = set()
            for left in members[:index]:
                root_left, root_right = uf.find(left), uf.find(right)
                if root_left == root_right or root_left in refused:
                    continue
                provider = uf.over_limit(root_left, root_right, limit)
                if provider is None:
                    uf.union(root_left, root_right)
                else:
                    refused.add(root_left)
                    low, high = sorted((left, right))
                    dropped.append(_Dropped(email, low, high, provider))
    return dropped


def _edges(
    uf: _UnionFind,
    links: Mapping[MatchKey, list[RecordRef]],
    emails: Mapping[str, list[RecordRef]],
    manual: Iterable[MatchEdge],
) -> dict[RecordRef, list[MatchEdge]]:
    """Per customer root: a star per shared key over that key's records in the customer, and
    the override edges."""
    groups: list[tuple[MatchRule, str | None, str, list[RecordRef]]] = [
        (MatchRule.LINKED_ID, key.namespace, key.value, refs) for key, refs in links.items()
    ]
    groups += [(MatchRule.EMAIL, None, email, refs) for email, refs in emails.items()]
    out: dict[RecordRef, list[MatchEdge]] = defaultdict(list)
    for edge in manual:
        out[uf.find(edge.left)].append(edge)
    for rule, namespace, value, refs in groups:
        first_in: dict[RecordRef, RecordRef] = {}
        for ref in refs:  # sorted, so the first seen per customer is its smallest
            root = uf.find(ref)
            if root in first_in:
                out[root].append(MatchEdge(rule, namespace, value, first_in[root], ref))
            else:
                first_in[root] = ref
    for found in out.values():
        found.sort(key=lambda e: (e.rule.value, e.namespace or "", e.value, e.left, e.right))
    return out


def _dropped_conflicts(
    uf: _UnionFind, dropped: list[_Dropped], limit: int
) -> dict[RecordRef, list[Conflict]]:
    """Per customer root: the refused email joins, once per email and pair of customers."""
    out: dict[RecordRef, list[Conflict]] = defaultdict(list)
    reported: set[tuple[str, frozenset[RecordRef]]] = set()
    for drop in dropped:
        roots = frozenset((uf.find(drop.left), uf.find(drop.right)))
        if (drop.email, roots) in reported:
            continue
        reported.add((drop.email, roots))
        conflict = Conflict(
            kind=ConflictKind.GUARDRAIL,
            message=f"email {drop.email} links {drop.left} and {drop.right}, but merging "
            f"would exceed {limit} {drop.provider} records per customer; not merged",
            email=drop.email,
            provider=drop.provider,
            records=(drop.left, drop.right),
        )
        for root in sorted(roots):
            out[root].append(conflict)
    return out


def _customer(
    records: list[CustomerRecord],
    edges: list[MatchEdge],
    guardrails: list[Conflict],
    settings: IdentitySettings,
) -> MergedCustomer:
    """Assemble one customer from its sorted records."""
    survived = survive(records, settings)
    limit = settings.max_records_per_provider
    by_provider: dict[str, list[RecordRef]] = defaultdict(list)
    for record in records:
        by_provider[record.provider].append(record.ref)
    linked_over = [  # email joins never pass the limit, only linked ids and overrides can
        Conflict(
            kind=ConflictKind.GUARDRAIL,
            message=f"linked ids or link overrides join {len(found)} {provider} records, more "
            f"than the limit of {limit}; kept together",
            provider=provider,
            records=tuple(found),
        )
        for provider, found in sorted(by_provider.items(), key=lambda kv: provider_rank(kv[0]))
        if len(found) > limit
    ]
    refs = sorted((r.ref for r in records), key=lambda ref: (provider_rank(ref.provider), ref.id))
    created = [as_utc(r.created_at) for r in records if r.created_at is not None]
    return MergedCustomer(
        anchor=refs[0],
        records=tuple(records),
        edges=tuple(edges),
        guardrails=(*linked_over, *guardrails),
        survived=survived,
        external_ids=tuple(refs),
        created_at=min(created, default=None),
    )


def assemble(
    records: Iterable[CustomerRecord],
    edges: Iterable[MatchEdge],
    conflicts: Iterable[Conflict],
    settings: IdentitySettings,
) -> MergedCustomer:
    """One customer from records already known to be one (the identity index's members, fetched
    fresh): anchor and surviving fields as :func:`resolve` gives them, with the evidence the
    index recorded (``conflicts``: its guardrail decisions; field conflicts are recomputed)."""
    nodes = list(_canonical(records).values())
    if not nodes:
        raise ValueError("assemble() needs at least one live record")
    given = dict.fromkeys(c for c in conflicts if c.kind is ConflictKind.GUARDRAIL)
    merged = _customer(nodes, sorted(edges), [], settings)
    extra = tuple(c for c in given if c not in merged.guardrails)
    if not extra:
        return merged
    return dataclasses.replace(merged, guardrails=(*merged.guardrails, *extra))
