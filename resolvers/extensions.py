"""Response extensions: which providers failed during the request."""

from __future__ import annotations

from typing import Any

from strawberry.extensions import SchemaExtension

from gateway.errors import provider_code


class GatewayErrors(SchemaExtension):
    """Lists the providers that failed during the request in the response ``extensions``."""

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        degraded = getattr(context, "degraded", None) or {}
        if not degraded:
            return {}
        return {
            "degradedProviders": [
                {"provider": name, "code": provider_code(err).value, "message": err.message}
                for name, err in sorted(degraded.items())
            ]
        }
