"""The one place domain errors become GraphQL errors, each with a stable ``extensions.code``.

Resolvers let :class:`~gateway.errors.GatewayError` propagate; :func:`finalise_errors` (run by
the HTTP view on every result) turns them, and anything else a client sees, into coded errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLError

from gateway.errors import ErrorCode, GatewayError, ProviderError, ProviderFailed, provider_code
from gateway.providers.upstream.redact import without_paths

__all__ = ["finalise_errors", "is_unexpected", "provider_extensions"]


def provider_extensions(error: ProviderError) -> dict[str, Any]:
    extensions: dict[str, Any] = {
        "code": provider_code(error).value,
        "provider": error.provider,
        "retryable": error.retryable,
    }
    if error.status is not None:
        extensions["upstreamStatus"] = error.status
    if error.retry_after is not None:
        extensions["retryAfter"] = error.retry_after
    return extensions


def _extensions(error: GatewayError) -> dict[str, Any]:
    if isinstance(error, ProviderFailed):
        return provider_extensions(error.error)
    return {"code": error.code.value, **error.extensions}


def is_unexpected(error: GraphQLError) -> bool:
    """Errors worth a traceback in the log: raised by a bug, not by a user or a provider.

    graphql-core reports an exception from parsing an input value (a literal in validation, a
    variable in coercion) as that input's error, with the exception attached, the input's node
    and no path: e.g. Python's int-string limit refusing a 5,000-digit Int literal. Those are
    the client's.
    """
    original = error.original_error
    if original is None or isinstance(original, GraphQLError | GatewayError):
        return False
    return not (error.path is None and error.nodes)


def _code_for(error: GraphQLError) -> ErrorCode:
    """Codes for graphql-core's own errors (parsing, validation, variable coercion)."""
    if error.message.startswith("Syntax Error"):
        return ErrorCode.GRAPHQL_PARSE_FAILED
    if error.message.startswith("Variable ") or "got invalid value" in error.message:
        return ErrorCode.BAD_USER_INPUT
    return ErrorCode.GRAPHQL_VALIDATION_FAILED


def _client_error(error: GraphQLError, show_paths: bool) -> GraphQLError:
    original = error.original_error
    if isinstance(original, GatewayError):
        message = original.message if show_paths else without_paths(original.message)
        return GraphQLError(
            message, nodes=error.nodes, path=error.path, extensions=_extensions(original)
        )
    if is_unexpected(error):
        return GraphQLError(
            "Internal server error.",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": ErrorCode.INTERNAL_SERVER_ERROR.value},
        )
    if not (error.extensions or {}).get("code"):
        error.extensions = {**(error.extensions or {}), "code": _code_for(error).value}
    return error


def finalise_errors(
    errors: list[GraphQLError] | None,
    degraded: Mapping[str, ProviderError],
    *,
    show_paths: bool = True,
) -> list[GraphQLError]:
    """The errors a client sees: domain errors coded, unexpected exceptions masked (the schema
    logged them in full), every error with ``extensions.code``, and one error per failed
    provider that no field error already names. Without ``show_paths`` (callers lacking the
    ``customers:pii`` scope) upstream request paths, which hold customer ids, are withheld.

    Called by the HTTP view on the final result: Strawberry sets an operation's result only
    after extension hooks have resumed, and parse failures skip them altogether.
    """
    final = [_client_error(error, show_paths) for error in errors or []]
    named = {(e.extensions or {}).get("provider") for e in final}
    for provider, failure in sorted(degraded.items()):
        if provider not in named:
            gone = ProviderFailed(failure)
            message = gone.message if show_paths else without_paths(gone.message)
            final.append(GraphQLError(message, extensions=_extensions(gone)))
    return final
