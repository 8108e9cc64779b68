"""Removing credentials from what providers say before it reaches a client or a log.

Exact-match scrubbing of the configured key misses what providers echo back in other forms:
Stripe answers a wrong key with "Invalid API Key provided: sk_test_****************1234" (the
last four characters are the key's), others echo headers in other case or encoding. So besides
the exact secrets, anything shaped like an API key or bearer credential is replaced, masked or not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final

__all__ = ["REDACTED", "redact", "secrets_for", "without_paths"]

REDACTED: Final = "[redacted]"

_KEY_LIKE: Final = re.compile(
    r"""
    \b(?:sk|rk|pk|whsec)_(?:test|live)_[\w*]+          # Stripe-style keys, masked or not
    | \b(?:bearer|basic|token)\s+(?:token\s*=\s*)?"?[\w*+/=.-]{6,}"?   # credentials in headers
    | (?<![\w*])\*{4,}[\w]{0,8}                          # masked runs with a visible tail
    """,
    re.IGNORECASE | re.VERBOSE,
)


_REQUEST_LINE: Final = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE|HEAD) /[^\s,;)]*")


def without_paths(text: str) -> str:
    """``text`` with upstream request paths withheld: they hold customer ids and emails
    (``GET /v1/customers/cus_…``), shown to clients only with the ``customers:pii`` scope."""
    return _REQUEST_LINE.sub(lambda found: f"{found.group(1)} <path withheld>", text)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without the given secrets (longest first) and without key-like tokens."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = re.sub(re.escape(secret), REDACTED, text, flags=re.IGNORECASE)
    return _KEY_LIKE.sub(REDACTED, text)


def secrets_for(api_key: str, auth_headers: Mapping[str, str]) -> tuple[str, ...]:
    """Every string that would reveal the key: the key and each auth header's credentials."""
    found = {api_key}
    for value in auth_headers.values():
        found.add(value)
        _, _, credentials = value.strip().partition(" ")
        found.add(credentials.strip())
    # Longest first, so a header value is masked whole before the key inside it.
    return tuple(sorted((s for s in found if s), key=len, reverse=True))
