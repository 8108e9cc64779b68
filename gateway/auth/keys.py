"""API keys: only their sha256 is configured; a presented key is hashed and compared in
constant time, so neither the config file nor a timing side channel gives a key away."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

__all__ = ["KEY_PREFIX", "ApiKey", "digest", "match", "new_key"]

KEY_PREFIX: Final = "cgw_"
"""Keys :func:`new_key` makes start with this, so a leaked one is easy to search for."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    """One configured key: its id (in logs and mutation payloads), hash and scopes."""

    id: str
    sha256: str
    """Lower-case hex sha256 of the key's UTF-8 text."""
    scopes: frozenset[str]


def digest(key: str) -> str:
    """The hex sha256 the config file stores for ``key``."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def match(keys: Sequence[ApiKey], presented: str) -> ApiKey | None:
    """The configured key ``presented`` is, if any. Every configured hash is compared, with
    :func:`hmac.compare_digest`, so the time taken says nothing about which one is close."""
    wanted = digest(presented)
    found = None
    for key in keys:
        if hmac.compare_digest(wanted, key.sha256):
            found = key
    return found


def new_key() -> str:
    """A fresh random key: 32 bytes from the OS's CSPRNG, URL-safe, with :data:`KEY_PREFIX`."""
    return KEY_PREFIX + secrets.token_urlsafe(32)
