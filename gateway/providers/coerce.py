"""Reading values out of providers' JSON: one definition of each coercion for every adapter.

Provider objects are untrusted input: every reader returns ``None`` for a value of the wrong
type instead of raising, so a malformed field costs only that field.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "display",
    "email_key",
    "flag",
    "iso_datetime",
    "nested",
    "text",
    "trimmed",
    "unix_datetime",
    "whole_number",
]


def email_key(email: str) -> str:
    """How emails are compared: trimmed and case-folded (providers match them that way)."""
    return email.strip().casefold()


def text(value: Any) -> str | None:
    """A non-empty string as sent (providers answer ``""`` for unset strings)."""
    return value if isinstance(value, str) and value != "" else None


def trimmed(value: Any) -> str | None:
    """A string with surrounding whitespace removed; blank is ``None``."""
    return (value.strip() or None) if isinstance(value, str) else None


def display(value: Any) -> str | None:
    """Any scalar as text for a string field (ids may be numbers); empty is ``None``."""
    return None if value is None or value == "" or isinstance(value, dict | list) else str(value)


def whole_number(value: Any) -> int | None:
    """An integer, never a boolean (JSON ``true`` is an ``int`` in Python)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def unix_datetime(value: Any) -> datetime | None:
    seconds = whole_number(value)
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None


def iso_datetime(value: Any) -> datetime | None:
    """An ISO 8601 timestamp in UTC; a naive one is taken as UTC."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def nested(obj: Mapping[str, Any], *path: str) -> Any:
    """The value at ``path`` in nested objects; ``None`` where any step is missing."""
    node: Any = obj
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node
