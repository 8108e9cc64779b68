"""Schema extensions: error codes on every error, masking, degraded-provider reporting."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from resolvers.errors import BAD_USER_INPUT, provider_code, provider_error

INTERNAL: str = "INTERNAL_SERVER_ERROR"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


def ensure_codes(errors: list[GraphQLError] | None) -> None:
    """Give every error an ``extensions.code``. Also called by the HTTP view, because a parse
    failure ends the operation before extension hooks resume."""
    for error in errors or []:
        _ensure_code(error)


def _ensure_code(error: GraphQLError) -> None:
    if not (error.extensions or {}).get("code"):
        error.extensions = {**(error.extensions or {}), "code": _code_for(error)}


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


class GatewayErrors(SchemaExtension):
    """Every error leaves with ``extensions.code``; unexpected exceptions are masked and logged.

    Also reports providers that failed during the request: response ``extensions`` lists them,
    and each gets an error of its own unless a field error already names it.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        for error in context.pre_execution_errors or []:
            _ensure_code(error)
        result = context.result
        if result is None:
            return
        errors: list[GraphQLError] = []
        for error in result.errors or []:
            original = error.original_error
            code = (error.extensions or {}).get("code")
            if original is not None and not isinstance(original, GraphQLError) and code is None:
                # Masked for the client; the schema logs the original in full.
                error = GraphQLError(
                    "Internal server error.",
                    nodes=error.nodes,
                    path=error.path,
                    original_error=original,
                    extensions={"code": INTERNAL},
                )
            _ensure_code(error)
            errors.append(error)
        degraded = getattr(context.context, "degraded", None) or {}
        named = {(e.extensions or {}).get("provider") for e in errors}
        for provider, failure in sorted(degraded.items()):
            if provider not in named:
                errors.append(provider_error(failure))
        if errors or result.errors:
            result.errors = errors

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
