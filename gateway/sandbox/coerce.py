"""Value checks and coercions several simulators share, so each rule is written once.

Seed checks raise ``ValueError`` with a message that starts with the offending field's name:
the sandbox prefixes it with the provider and record index when a dataset fails to load.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from gateway.providers.coerce import email_key

__all__ = ["email_key", "is_int", "optional_text", "query_int", "refuse_unknown"]


def is_int(value: Any) -> bool:
    """A JSON integer: ``int`` but not ``bool`` (``True`` is an ``int`` to Python, not to JSON)."""
    return isinstance(value, int) and not isinstance(value, bool)


def optional_text(record: Mapping[str, Any], key: str) -> str | None:
    """``record[key]`` when it is a string or null/absent; anything else is refused."""
    value = record.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key} must be a string or null, not {value!r}")
    return value


def refuse_unknown(record: Mapping[str, Any], known: Collection[str], what: str) -> None:
    """Refuse keys outside ``known``: a typo in a dataset file must not be dropped silently."""
    unknown = sorted(set(record) - set(known))
    if unknown:
        raise ValueError(f"unknown {what} fields: {', '.join(unknown)}")


def query_int(raw: str | None) -> int | None:
    """A query parameter as an integer; ``None`` when absent or not a whole number."""
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None
