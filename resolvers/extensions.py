"""Schema extensions: which providers failed or answered through a fallback (in the response),
and which operation ran (for the access log)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

from gateway.auth.scopes import Scope
from gateway.core.context import RequestContext
from gateway.errors import ErrorCode, provider_code
from gateway.providers.notices import current_notices
from gateway.providers.upstream.redact import without_paths


def shows_paths(context: object) -> bool:
    """Whether this request's caller may see upstream request paths (``customers:pii``)."""
    principal = getattr(context, "principal", None)
    return principal is None or principal.allows(Scope.PII)


class GatewayErrors(SchemaExtension):
    """Lists in the response ``extensions.degradedProviders`` every provider that failed during
    the request (its fields are ``null`` with an error) and every provider that answered
    through a fallback (its fields answer; the message says what is weaker)."""

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
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


class OperationName(SchemaExtension):
    """Notes on the request context the operation that ran: the request's ``operationName``,
    else the document's own name (``query ShowcaseCustomer { ... }`` sent without one)."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        if isinstance(context, RequestContext):
            context.operation_name = self.execution_context.operation_name
