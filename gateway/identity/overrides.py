"""Manual overrides of identity resolution: an operator's must-link and stand-alone decisions.

Stored by the identity index with who/when/why (the audit trail) and handed to :func:`resolve`,
which honours them: evidence from data never beats an operator's decision, and a later
decision about the same records replaces an earlier one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from gateway.model import RecordRef

__all__ = ["Override", "OverrideKind"]


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
