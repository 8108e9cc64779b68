"""What a write did, per provider: the values a mutation returns and the replay store keeps.

Frozen and built of tuples, so a stored result cannot be changed by the request that replays it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from gateway.errors import ErrorCode, FieldError
from gateway.model import RecordRef


class Status(enum.Enum):
    APPLIED = "APPLIED"
    """The provider accepted the write."""
    SKIPPED = "SKIPPED"
    """Not attempted; ``reason`` says why (unsupported, nothing it stores, no record, ...)."""
    FAILED = "FAILED"
    """Attempted and refused or not answered; ``code``/``message`` carry the provider's error.
    After a timeout the write may still have happened upstream: read the customer back."""


@dataclass(frozen=True, slots=True)
class Outcome:
    provider: str
    status: Status
    record_id: str | None = None
    reason: str | None = None
    code: ErrorCode | None = None
    message: str | None = None
    skipped_fields: tuple[str, ...] = ()
    """Input fields (GraphQL names) the provider cannot store, so did not receive."""


@dataclass(frozen=True, slots=True)
class MutationResult:
    """Everything a customer mutation answers, apart from the re-read customer."""

    outcomes: tuple[Outcome, ...] = ()
    user_errors: tuple[FieldError, ...] = ()
    anchor: RecordRef | None = None
    """A record of the customer to read back (``None``: nothing to show)."""
    replayed: bool = False
    actor: str | None = None
    """The key id (``jwt:<sub>`` for a token) that made the mutation; ``None`` when open."""

    @property
    def executed(self) -> bool:
        """Whether the mutation got past validation (and so is remembered under its key)."""
        return not self.user_errors

    @classmethod
    def invalid(cls, errors: list[FieldError] | tuple[FieldError, ...]) -> MutationResult:
        return cls(user_errors=tuple(errors))
