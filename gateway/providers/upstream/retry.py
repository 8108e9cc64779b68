"""When a failed attempt is tried again: which requests, how often and after how long."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from gateway.config import RetryPolicy
from gateway.errors import ProviderError
from gateway.providers.resilience import backoff_delay

SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods retried without an idempotency key: they change nothing upstream."""


def may_retry(method: str, headers: Mapping[str, str], *, retry_writes: bool) -> bool:
    """Whether a request may be sent more than once (``method`` upper-case).

    Reads always; writes only under an idempotency key or when the caller says the write is
    naturally idempotent (an upsert, a DELETE).
    """
    return method in SAFE_METHODS or "idempotency-key" in headers or retry_writes


def attempts(policy: RetryPolicy, retryable: bool) -> int:
    """How many times a request is sent at most."""
    return 1 + (max(0, policy.max_retries) if retryable else 0)


def retry_delay(
    policy: RetryPolicy,
    attempt: int,
    error: ProviderError,
    *,
    retryable: bool,
    now: float,
    deadline: float,
) -> float | None:
    """Seconds to wait before trying again after ``attempt`` (0-based) failed with ``error``,
    or ``None`` to give up: a final error, no attempts left, or a wait that would end at or past
    ``deadline``. Full-jitter exponential backoff; a provider's ``Retry-After`` lengthens (never
    shortens) the wait."""
    if not (error.retryable and attempt + 1 < attempts(policy, retryable)):
        return None
    wait = backoff_delay(attempt, policy.backoff_base, policy.backoff_max)
    if error.retry_after is not None:
        wait = max(wait, error.retry_after)
    return None if now + wait >= deadline else wait
