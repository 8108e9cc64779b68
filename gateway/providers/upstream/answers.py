"""What one attempt's answer means: the decoded body, or the :class:`ProviderError` it is.

Errors are made by the provider's :class:`ErrorFactory` (its name, its secrets scrubbed), so
nothing here knows which provider it reads for.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from gateway.errors import ErrorKind, ProviderError
from gateway.providers.upstream.classify import kind_for_status
from gateway.providers.upstream.error_body import ErrorParser, UpstreamError
from gateway.providers.upstream.retry_after import retry_after_for
from gateway.providers.upstream.wire import Answer

__all__ = ["ErrorFactory", "decoded", "status_error"]


class ErrorFactory(Protocol):
    """Builds the provider's :class:`ProviderError` with its secrets scrubbed."""

    def __call__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> ProviderError: ...


def status_error(answer: Answer, parse: ErrorParser, error: ErrorFactory) -> ProviderError:
    """Normalise a non-2xx answer, reading the provider's own code and message."""
    try:
        parsed = parse(answer)
    except Exception:  # a parser must not raise; if one does, keep the status
        parsed = UpstreamError(None, None)
    status = answer.status
    kind = kind_for_status(status)
    return error(
        kind,
        parsed.message or f"HTTP {status}",
        status=status,
        code=parsed.code,
        retry_after=retry_after_for(kind, answer),
    )


def decoded(answer: Answer, method: str, path: str, error: ErrorFactory) -> Any:
    """The JSON body, ``None`` for no body, or a BAD_RESPONSE error for malformed JSON."""
    if answer.status == 204 or not answer.content.strip():
        return None
    try:
        return answer.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        pass
    return error(
        ErrorKind.BAD_RESPONSE,
        f"malformed JSON in the answer to {method} {path} (HTTP {answer.status})",
        status=answer.status,
    )
