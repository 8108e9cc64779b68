"""Response extensions: which providers failed, or answered only through a fallback."""

from __future__ import annotations

from typing import Any

from strawberry.extensions import SchemaExtension

from gateway.errors import ErrorCode, provider_code
from gateway.providers.notices import current_notices


class GatewayErrors(SchemaExtension):
    """Lists in the response ``extensions.degradedProviders`` every provider that failed during
    the request (its fields are ``null`` with an error) and every provider that answered
    through a fallback (its fields answer; the message says what is weaker)."""

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        failed = getattr(context, "degraded", None) or {}
        entries = {
            name: {"provider": name, "code": provider_code(err).value, "message": err.message}
            for name, err in failed.items()
        }
        for name, message in current_notices().items():
            entries.setdefault(
                name,
                {"provider": name, "code": ErrorCode.PROVIDER_FALLBACK.value, "message": message},
            )
        return {"degradedProviders": [entries[n] for n in sorted(entries)]} if entries else {}
