"""When a failed attempt is tried again: which requests, how often and after how long."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import httpx

from gateway.config import ProviderSettings
from gateway.errors import ProviderError
from gateway.providers.resilience import backoff_delay

SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods retried without an idempotency key: they change nothing upstream."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries with full-jitter exponential backoff, never past the call's deadline.

    Reads are always retryable; writes only under an idempotency key or when the caller says
    the write is naturally idempotent. Only retryable error kinds are retried, and a provider's
    ``Retry-After`` lengthens (never shortens) the wait.
    """

    max_retries: int
    backoff_base: float
    backoff_max: float

    @classmethod
    def from_settings(cls, settings: ProviderSettings) -> RetryPolicy:
        return cls(settings.max_retries, settings.backoff_base, settings.backoff_max)

    @staticmethod
    def may_retry(method: str, headers: httpx.Headers, *, retry_writes: bool) -> bool:
        """Whether a request may be sent more than once (``method`` upper-case)."""
        return method in SAFE_METHODS or "idempotency-key" in headers or retry_writes

    def attempts(self, retryable: bool) -> int:
        """How many times a request is sent at most."""
        return 1 + (max(0, self.max_retries) if retryable else 0)

    def delay(
        self, attempt: int, error: ProviderError, *, retryable: bool, now: float, deadline: float
    ) -> float | None:
        """Seconds to wait before trying again after ``attempt`` (0-based) failed with
        ``error``, or ``None`` to give up: a final error, no attempts left, or a wait that would
        end at or past ``deadline``."""
        if not (error.retryable and attempt + 1 < self.attempts(retryable)):
            return None
        wait = backoff_delay(attempt, self.backoff_base, self.backoff_max)
        if error.retry_after is not None:
            wait = max(wait, error.retry_after)
        return None if now + wait >= deadline else wait
