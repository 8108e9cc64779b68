"""GraphQL errors with a stable ``extensions.code`` for everything a client can get wrong or
a provider can fail at."""

from __future__ import annotations

from typing import Any, Final

from graphql import GraphQLError

from gateway.errors import ErrorKind, ProviderError

BAD_USER_INPUT: Final = "BAD_USER_INPUT"
INVALID_ID: Final = "INVALID_ID"
INVALID_CURSOR: Final = "INVALID_CURSOR"
PROVIDER_NOT_CONFIGURED: Final = "PROVIDER_NOT_CONFIGURED"

PROVIDER_CODES: Final = {
    ErrorKind.TIMEOUT: "PROVIDER_TIMEOUT",
    ErrorKind.RATE_LIMITED: "PROVIDER_RATE_LIMITED",
    ErrorKind.UNAVAILABLE: "PROVIDER_UNAVAILABLE",
    ErrorKind.AUTH: "PROVIDER_AUTH_FAILED",
    ErrorKind.BAD_RESPONSE: "PROVIDER_BAD_RESPONSE",
    ErrorKind.BAD_REQUEST: "PROVIDER_BAD_REQUEST",
    ErrorKind.NOT_FOUND: "PROVIDER_NOT_FOUND",
}


def user_error(message: str, code: str = BAD_USER_INPUT, **extra: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extra})


def provider_code(error: ProviderError) -> str:
    return PROVIDER_CODES[error.kind]


def provider_extensions(error: ProviderError) -> dict[str, Any]:
    extensions: dict[str, Any] = {
        "code": provider_code(error),
        "provider": error.provider,
        "retryable": error.retryable,
    }
    if error.status is not None:
        extensions["upstreamStatus"] = error.status
    if error.retry_after is not None:
        extensions["retryAfter"] = error.retry_after
    return extensions


def provider_error(error: ProviderError) -> GraphQLError:
    """The client-facing form of a provider failure; the message names the provider."""
    return GraphQLError(
        f"{error.provider} is degraded ({error.kind.value}): {error.message}",
        extensions=provider_extensions(error),
    )
