"""How simulators read and check the API key a request presents: parsed once, compared in
constant time. Each provider's simulator chooses the schemes its real API accepts."""

from __future__ import annotations

import base64
import binascii
import hmac

from starlette.requests import Request

__all__ = ["basic_credentials", "bearer_token", "same_key"]


def _authorization(request: Request) -> tuple[str, str]:
    scheme, _, value = request.headers.get("authorization", "").strip().partition(" ")
    return scheme.lower(), value.strip()


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """``(user, password)`` from ``Authorization: Basic``; ``None`` when absent or malformed."""
    scheme, value = _authorization(request)
    if scheme != "basic":
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    user, _, password = decoded.partition(":")
    return user, password


def bearer_token(request: Request) -> str | None:
    """The token from ``Authorization: Bearer <token>``, or ``None``."""
    scheme, value = _authorization(request)
    return (value or None) if scheme == "bearer" else None


def same_key(presented: str | None, expected: str) -> bool:
    """Whether the presented key is the expected one, in time independent of where they differ."""
    return presented is not None and hmac.compare_digest(presented.encode(), expected.encode())
