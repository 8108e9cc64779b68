"""Manual overrides of identity resolution: an operator's must-link and stand-alone decisions.

Stored by the identity index with who/when/why (the audit trail) and handed to :func:`resolve`,
which honours them: evidence from data never beats an operator's decision, and a later
decision about the same records replaces an earlier one.

:func:`decide` says which overrides still hold. They are taken in ``(at, kind, records)`` order
(naive times as UTC; then reason, actor and the time as written, so equal keys cannot make
the result depend on the input order); at the same instant ``LINK`` sorts before ``UNLINK``,
so the unlink is the later decision. A record's latest ``UNLINK`` makes it stand alone and
voids every earlier ``LINK`` naming it; ``LINK`` overrides made after it still hold. Overrides
naming a record the resolver was not given (or a deleted one) are ignored: a ``LINK`` as a
whole, an ``UNLINK`` for that record.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from gateway.identity.times import as_utc
from gateway.model import RecordRef

__all__ = ["Decisions", "Override", "OverrideKind", "decide"]


class OverrideKind(enum.StrEnum):
    LINK = "LINK"
    """``records`` (two) are one customer, whatever their data says."""
    UNLINK = "UNLINK"
    """``records`` (one) stands alone: no email or linked-id edge joins it to others (a later
    ``LINK`` naming it still does)."""


@dataclass(frozen=True, slots=True)
class Override:
    kind: OverrideKind
    records: tuple[RecordRef, ...]
    reason: str
    actor: str
    """Who decided (the authenticated principal's name)."""
    at: datetime
    """When; overrides apply in this order."""


@dataclass(frozen=True, slots=True)
class Decisions:
    """The overrides that hold for one set of records."""

    links: tuple[Override, ...]
    """Effective ``LINK`` overrides (naming two or more distinct records), in the order they
    were made."""
    alone: frozenset[RecordRef]
    """Records under an ``UNLINK``: they take no email or linked-id edge."""


def _order(override: Override) -> tuple[datetime, str, tuple[RecordRef, ...], str, str, str]:
    return (
        as_utc(override.at),
        override.kind.value,
        override.records,
        override.reason,
        override.actor,
        override.at.isoformat(),  # one instant written with different zones
    )


def decide(overrides: Iterable[Override], known: Collection[RecordRef]) -> Decisions:
    """Which of ``overrides`` hold for the records ``known``; independent of input order."""
    ordered = sorted(overrides, key=_order)
    last_unlink: dict[RecordRef, int] = {}
    for position, override in enumerate(ordered):
        if override.kind is OverrideKind.UNLINK:
            last_unlink.update((ref, position) for ref in override.records if ref in known)
    links = tuple(
        override
        for position, override in enumerate(ordered)
        if override.kind is OverrideKind.LINK
        and len(set(override.records)) > 1
        and all(ref in known and last_unlink.get(ref, -1) < position for ref in override.records)
    )
    return Decisions(links=links, alone=frozenset(last_unlink))
