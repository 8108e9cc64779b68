"""What a response's top-level ``extensions`` say: which providers failed during the request and
which answered through a fallback (:class:`resolvers.operation.GatewayOperation` adds it)."""

from __future__ import annotations

from typing import Any

from gateway.auth.scopes import Scope
from gateway.errors import ErrorCode, provider_code
from gateway.providers.notices import current_notices
from gateway.providers.upstream.redact import without_paths

__all__ = ["response_extensions", "shows_paths"]


def shows_paths(context: object) -> bool:
    """Whether this request's caller may see upstream request paths (``customers:pii``)."""
    principal = getattr(context, "principal", None)
    return principal is None or principal.allows(Scope.PII)


def response_extensions(context: object) -> dict[str, Any]:
    """``degradedProviders``: every provider that failed during the request (its fields are
    ``null`` with an error) and every provider that answered through a fallback (its fields
    answer; the message says what is weaker). Empty when all answered in full."""
    failed = getattr(context, "degraded", None) or {}
    shown = shows_paths(context)
    entries = {
        name: {
            "provider": name,
            "code": provider_code(err).value,
            "message": err.message if shown else without_paths(err.message),
        }
        for name, err in failed.items()
    }
    for name, message in current_notices().items():
        entries.setdefault(
            name,
            {"provider": name, "code": ErrorCode.PROVIDER_FALLBACK.value, "message": message},
        )
    return {"degradedProviders": [entries[n] for n in sorted(entries)]} if entries else {}
