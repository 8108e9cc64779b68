"""Failures the domain core reports, normalised; the GraphQL layer maps them in one place."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Final


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
