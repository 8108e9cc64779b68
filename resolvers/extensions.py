"""What clients see of errors: codes on every error, masking, degraded-provider reporting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from gateway.errors import ProviderError
from resolvers.errors import BAD_USER_INPUT, provider_code, provider_error

INTERNAL: str = "INTERNAL_SERVER_ERROR"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


def is_unexpected(error: GraphQLError) -> bool:
    """Errors worth a traceback in the log: raised by a bug, not by a user or a provider."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


def _code_for(error: GraphQLError) -> str:
    if error.message.startswith("Syntax Error"):
        return PARSE_FAILED
    if error.message.startswith("Variable ") or "got invalid value" in error.message:
        return BAD_USER_INPUT
    return VALIDATION_FAILED


def finalise_errors(
    errors: list[GraphQLError] | None, degraded: Mapping[str, ProviderError]
) -> list[GraphQLError]:
    """The errors a client sees: unexpected exceptions masked (the schema logged them in full),
    every error with ``extensions.code``, and one error per failed provider that no field error
    already names.

    Called by the HTTP view on the final result: Strawberry sets an operation's result only
    after extension hooks have resumed, and parse failures skip them altogether.
    """
    final: list[GraphQLError] = []
    for error in errors or []:
        if is_unexpected(error):
            error = GraphQLError(
                "Internal server error.",
                nodes=error.nodes,
                path=error.path,
                extensions={"code": INTERNAL},
            )
        elif not (error.extensions or {}).get("code"):
            error.extensions = {**(error.extensions or {}), "code": _code_for(error)}
        final.append(error)
    named = {(e.extensions or {}).get("provider") for e in final}
    for provider, failure in sorted(degraded.items()):
        if provider not in named:
            final.append(provider_error(failure))
    return final


class GatewayErrors(SchemaExtension):
    """Lists the providers that failed during the request in the response ``extensions``."""

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        degraded = getattr(context, "degraded", None) or {}
        if not degraded:
            return {}
        return {
            "degradedProviders": [
                {"provider": name, "code": provider_code(err), "message": err.message}
                for name, err in sorted(degraded.items())
            ]
        }
