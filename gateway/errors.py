"""Failures the domain core reports, normalised; the GraphQL layer maps them in one place.

:class:`ErrorCode` is every ``extensions.code`` (and write ``code``) a client can see: clients
switch on them, so they are stable. The core raises :class:`InvalidInput` (with a code and the
path of the argument) and :class:`ProviderFailed`, and answers "not found" with ``None``; it
never builds a GraphQL error itself.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final


class ErrorCode(enum.StrEnum):
    # requests the gateway could not run
    BAD_REQUEST = "BAD_REQUEST"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    """An HTTP method the path does not take (405, with ``Allow``)."""
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    QUERY_TOO_LARGE = "QUERY_TOO_LARGE"
    QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    SHUTTING_DOWN = "SHUTTING_DOWN"
    """The gateway stopped while the request ran (the shutdown drain ran out); retry elsewhere."""
    # persisted queries and trusted documents (gateway/documents)
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    """APQ: the hash is not known (yet); the client resends it with the query (Apollo's code)."""
    PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
    """APQ is off (``apq_cache_size`` 0); the client stops sending hashes (Apollo's code)."""
    PERSISTED_QUERY_NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
    """Trusted documents only: the request names a document id that is not registered."""
    QUERY_NOT_IN_SAFELIST = "QUERY_NOT_IN_SAFELIST"
    """Trusted documents only: the request sends a query whose text is not registered."""
    # access control (docs/security.md#access-control)
    UNAUTHENTICATED = "UNAUTHENTICATED"
    """No credentials, or ones the gateway does not accept (HTTP 401)."""
    FORBIDDEN = "FORBIDDEN"
    """The credentials lack a scope the operation needs (HTTP 403); ``extensions.scope``."""
    RATE_LIMITED = "RATE_LIMITED"
    """The key sent more requests than its rate allows (HTTP 429, ``Retry-After``)."""
    QUERY_BUDGET_EXHAUSTED = "QUERY_BUDGET_EXHAUSTED"
    """The key's operations cost more upstream calls this minute than its budget (HTTP 429)."""
    # request limits (gateway/request_guard.py)
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    """The body (or GET query string) is over ``max_body_bytes``; nothing was read past it."""
    REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
    """The operation was still running past ``request_deadline``; it was cancelled."""
    # arguments
    BAD_USER_INPUT = "BAD_USER_INPUT"
    INVALID_ID = "INVALID_ID"
    INVALID_CURSOR = "INVALID_CURSOR"
    PROVIDER_NOT_CONFIGURED = "PROVIDER_NOT_CONFIGURED"
    NOT_FOUND = "NOT_FOUND"
    NOT_SYNCED = "NOT_SYNCED"
    """The answer needs the identity index, and a provider has not been synced into it yet."""
    # write input fields
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_COUNTRY = "INVALID_COUNTRY"
    INVALID_CURRENCY = "INVALID_CURRENCY"
    INVALID_FORMAT = "INVALID_FORMAT"
    TOO_LONG = "TOO_LONG"
    BLANK = "BLANK"
    REQUIRED = "REQUIRED"
    NOT_CLEARABLE = "NOT_CLEARABLE"
    NOT_CHANGEABLE = "NOT_CHANGEABLE"
    CONFLICT = "CONFLICT"
    EMPTY_INPUT = "EMPTY_INPUT"
    METADATA_INVALID = "METADATA_INVALID"
    METADATA_TOO_MANY_KEYS = "METADATA_TOO_MANY_KEYS"
    METADATA_KEY_TOO_LONG = "METADATA_KEY_TOO_LONG"
    METADATA_KEY_INVALID = "METADATA_KEY_INVALID"
    METADATA_KEY_RESERVED = "METADATA_KEY_RESERVED"
    METADATA_VALUE_TOO_LONG = "METADATA_VALUE_TOO_LONG"
    INVALID_IDEMPOTENCY_KEY = "INVALID_IDEMPOTENCY_KEY"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    IDEMPOTENCY_KEY_IN_PROGRESS = "IDEMPOTENCY_KEY_IN_PROGRESS"
    """Another replica is still running the mutation sent with this key; resend it later."""
    IDEMPOTENCY_UNAVAILABLE = "IDEMPOTENCY_UNAVAILABLE"
    """The shared store of idempotency keys (Redis) is down: a keyed mutation is refused
    rather than risk writing twice; nothing was written."""
    # providers
    PROVIDER_TIMEOUT = "PROVIDER_TIMEOUT"
    PROVIDER_RATE_LIMITED = "PROVIDER_RATE_LIMITED"
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    PROVIDER_AUTH_FAILED = "PROVIDER_AUTH_FAILED"
    PROVIDER_BAD_RESPONSE = "PROVIDER_BAD_RESPONSE"
    PROVIDER_BAD_REQUEST = "PROVIDER_BAD_REQUEST"
    PROVIDER_NOT_FOUND = "PROVIDER_NOT_FOUND"
    PROVIDER_FALLBACK = "PROVIDER_FALLBACK"
    """Not an error: the provider answered through a weaker fallback (see its message)."""


class ErrorKind(enum.StrEnum):
    NOT_FOUND = "not_found"
    AUTH = "auth"
    RATE_LIMITED = "rate_limited"
    TIMEOUT = "timeout"
    UNAVAILABLE = "unavailable"
    BAD_REQUEST = "bad_request"
    BAD_RESPONSE = "bad_response"


RETRYABLE_KINDS: Final = frozenset(
    {ErrorKind.RATE_LIMITED, ErrorKind.TIMEOUT, ErrorKind.UNAVAILABLE}
)


class ProviderError(Exception):
    """Every failure talking to a provider, normalised. Never carries the API key."""

    def __init__(
        self,
        provider: str,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{provider}: {kind.value}: {message}")
        self.provider = provider
        self.kind = kind
        self.message = message
        self.status = status
        self.code = code
        self.retry_after = retry_after
        self.details: Mapping[str, Any] = details or {}

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE_KINDS

    def __repr__(self) -> str:
        return (
            f"ProviderError(provider={self.provider!r}, kind={self.kind.value!r}, "
            f"status={self.status!r}, code={self.code!r}, message={self.message!r})"
        )


PROVIDER_CODES: Final[Mapping[ErrorKind, ErrorCode]] = {
    ErrorKind.TIMEOUT: ErrorCode.PROVIDER_TIMEOUT,
    ErrorKind.RATE_LIMITED: ErrorCode.PROVIDER_RATE_LIMITED,
    ErrorKind.UNAVAILABLE: ErrorCode.PROVIDER_UNAVAILABLE,
    ErrorKind.AUTH: ErrorCode.PROVIDER_AUTH_FAILED,
    ErrorKind.BAD_RESPONSE: ErrorCode.PROVIDER_BAD_RESPONSE,
    ErrorKind.BAD_REQUEST: ErrorCode.PROVIDER_BAD_REQUEST,
    ErrorKind.NOT_FOUND: ErrorCode.PROVIDER_NOT_FOUND,
}


def provider_code(error: ProviderError) -> ErrorCode:
    return PROVIDER_CODES[error.kind]


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one input field; ``path`` walks the GraphQL arguments."""

    path: tuple[str, ...]
    message: str
    code: ErrorCode


class GatewayError(Exception):
    """A failure the client caused or must know about: never an incident, always coded."""

    code: ErrorCode = ErrorCode.BAD_USER_INPUT

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = extensions


class InvalidInput(GatewayError):
    """An argument the gateway cannot use; nothing was fetched or written because of it."""

    def __init__(
        self,
        message: str,
        code: ErrorCode = ErrorCode.BAD_USER_INPUT,
        *,
        path: tuple[str, ...] = (),
        **extensions: Any,
    ) -> None:
        super().__init__(message, **extensions)
        self.code = code
        self.path = path


class ProviderFailed(GatewayError):
    """A provider's failure that costs the field (or the whole answer) asking for it."""

    def __init__(self, error: ProviderError) -> None:
        super().__init__(f"{error.provider} is degraded ({error.kind.value}): {error.message}")
        self.error = error
        self.code = provider_code(error)
