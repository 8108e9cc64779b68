"""Scopes and the principal a request runs as: the one vocabulary every access check uses."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

__all__ = ["NOBODY", "OPEN", "SCOPES", "Principal", "Scope"]


class Scope(enum.StrEnum):
    READ = "customers:read"
    """Run queries."""
    WRITE = "customers:write"
    """Run mutations (and, later, identity overrides)."""
    PII = "customers:pii"
    """See emails, phone numbers and addresses unmasked."""
    INTROSPECTION = "introspection"
    """Introspect the schema (``__schema``, ``__type``) where introspection is otherwise off."""


SCOPES: Final = tuple(s.value for s in Scope)
"""Every scope a key may be granted, as written in the config file and in tokens."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request runs as: the key id for logs and mutation payloads, and its scopes."""

    key_id: str | None
    """The API key's id, ``jwt:<sub>`` for a token, ``None`` when the gateway runs open."""
    scopes: frozenset[str]

    def allows(self, scope: Scope) -> bool:
        return scope.value in self.scopes

    def missing(self, scope: Scope) -> str | None:
        """The scope's name when it is not granted, for the refusal."""
        return None if self.allows(scope) else scope.value


OPEN: Final = Principal(None, frozenset(SCOPES))
"""The caller of a gateway without access control (the sandbox, or ``auth.open``)."""
NOBODY: Final = Principal(None, frozenset())
"""A request that was never admitted: may do nothing (fail closed)."""
