"""Email normalisation for identity matching.

An email is a weak join key, so a value only matches when it plausibly names one mailbox:
it is trimmed and casefolded (``" Ann@Example.COM "`` -> ``"ann@example.com"``), and blanks,
configured placeholders (``n/a``, ``test@test.com``, ...) and anything that is not
``local@domain`` without inner whitespace give ``None``, which never matches anything.

Deliberately simple: no trailing-dot stripping, no ``+tag`` or Gmail dot folding, no IDNA
conversion. Two spellings that differ in those ways are different keys; over-merging distinct
customers is worse than missing a link.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["normalise_email"]


def normalise_email(value: str | None, placeholders: frozenset[str]) -> str | None:
    """The matching form of ``value``, or ``None`` when it must never match."""
    if value is None:
        return None
    email = value.strip().casefold()
    if not email or email in _normalised(placeholders):
        return None
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain or len(email.split()) != 1:
        return None
    return email


@lru_cache(maxsize=32)
def _normalised(placeholders: frozenset[str]) -> frozenset[str]:
    """Placeholders in matching form, so callers may list them in any case."""
    return frozenset(p.strip().casefold() for p in placeholders)
