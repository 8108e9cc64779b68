"""How long a provider asks us to wait: ``Retry-After`` and ``X-RateLimit-Reset``."""

from __future__ import annotations

import time
from datetime import UTC
from email.utils import parsedate_to_datetime

from gateway.errors import ErrorKind
from gateway.providers.upstream.wire import Answer


def retry_after_seconds(response: Answer, *, rate_limit_reset: bool = True) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or HTTP date) or ``X-RateLimit-Reset``.

    ``rate_limit_reset=False`` ignores ``X-RateLimit-Reset``, which some providers (Lago) send on
    every answer: it says when the rate window resets, not when a 503 will be over.
    """
    raw = response.headers.get("retry-after", "").strip()
    if raw:
        seconds = _finite(raw)
        if seconds is not None:
            return max(0.0, seconds)
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            pass
        else:
            if when.tzinfo is None:  # HTTP dates are GMT; "-0000" parses as naive
                when = when.replace(tzinfo=UTC)
            return max(0.0, when.timestamp() - time.time())
    reset = response.headers.get("x-ratelimit-reset", "").strip()
    if reset and rate_limit_reset:
        value = _finite(reset)
        if value is None:
            return None
        # Lago sends seconds until reset; some APIs send an epoch timestamp.
        return max(0.0, value - time.time()) if value > 1e9 else max(0.0, value)
    return None


def retry_after_for(kind: ErrorKind, response: Answer) -> float | None:
    """The wait an error of ``kind`` asks for: a 429 reads both headers, an outage only
    ``Retry-After``; other errors are not waited out."""
    if kind is ErrorKind.RATE_LIMITED:
        return retry_after_seconds(response)
    if kind is ErrorKind.UNAVAILABLE:
        return retry_after_seconds(response, rate_limit_reset=False)
    return None


def _finite(raw: str) -> float | None:
    """``raw`` as a finite float, or ``None`` (``nan``/``inf`` are not waits)."""
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None
