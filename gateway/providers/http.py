"""The one pooled, resilient HTTP client behind every adapter.

Each provider gets one :class:`ProviderHTTP`: a long-lived ``httpx.AsyncClient`` plus timeouts,
an overall deadline, retries with backoff (reads always; writes only under an idempotency key),
a concurrency cap, a client-side rate limit and a circuit breaker. Every failure leaves as a
:class:`ProviderError`; the API key never appears in one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from gateway.config import ProviderSettings
from gateway.providers.base import ErrorKind, ProviderError
from gateway.providers.resilience import CircuitBreaker, RateLimiter, backoff_delay

logger = logging.getLogger("customer_gateway.providers")

_BREAKER_FAILURES = frozenset({ErrorKind.UNAVAILABLE, ErrorKind.TIMEOUT, ErrorKind.BAD_RESPONSE})


@dataclass(frozen=True, slots=True)
class UpstreamError:
    """What an adapter reads out of a provider's error body."""

    code: str | None
    message: str | None


ErrorParser = Callable[[httpx.Response], UpstreamError]
"""Reads a provider's own error shape; must not raise."""


def kind_for_status(status: int) -> ErrorKind:
    if status in (401, 403):
        return ErrorKind.AUTH
    if status == 404:
        return ErrorKind.NOT_FOUND
    if status == 429:
        return ErrorKind.RATE_LIMITED
    if status == 408:
        return ErrorKind.TIMEOUT
    if status >= 500:
        return ErrorKind.UNAVAILABLE
    return ErrorKind.BAD_REQUEST


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or HTTP date) or ``X-RateLimit-Reset``."""
    raw = response.headers.get("retry-after")
    if raw:
        try:
            return max(0.0, float(raw))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(raw).timestamp() - time.time())
            except (TypeError, ValueError):
                pass
    reset = response.headers.get("x-ratelimit-reset")
    if reset:
        try:
            value = float(reset)
        except ValueError:
            return None
        # Lago sends seconds until reset; some APIs send an epoch timestamp.
        return max(0.0, value - time.time()) if value > 1e9 else max(0.0, value)
    return None


class ProviderHTTP:
    """Resilient request execution for one provider."""

    def __init__(
        self,
        settings: ProviderSettings,
        *,
        auth_headers: Mapping[str, str],
        error_parser: ErrorParser,
        default_headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.provider = settings.name
        self._error_parser = error_parser
        self._secrets = tuple(v for v in (settings.api_key,) if v)
        timeout = httpx.Timeout(
            settings.read_timeout, connect=settings.connect_timeout, pool=settings.deadline
        )
        limits = httpx.Limits(
            max_connections=max(settings.max_concurrency, 1),
            max_keepalive_connections=max(settings.max_concurrency, 1),
        )
        self.client = httpx.AsyncClient(
            base_url=settings.base_url,
            headers={**(default_headers or {}), **auth_headers},
            timeout=timeout,
            limits=limits,
            transport=transport,
        )
        self.breaker = CircuitBreaker(settings.breaker_threshold, settings.breaker_reset)
        self.rate_limiter = RateLimiter(settings.rate_limit, settings.rate_burst)
        self._semaphore = asyncio.Semaphore(max(settings.max_concurrency, 1))

    async def aclose(self) -> None:
        await self.client.aclose()

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _error(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> ProviderError:
        return ProviderError(
            self.provider,
            kind,
            self._scrub(message),
            status=status,
            code=code,
            retry_after=retry_after,
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        data: Mapping[str, Any] | list[tuple[str, str]] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        retry_writes: bool = False,
    ) -> Any:
        """Send one logical request and return its decoded JSON body (``None`` for no body).

        Reads (GET) are retried on connection errors, timeouts, 429 and 5xx. Writes are retried
        only when they carry ``idempotency_key`` (sent as ``Idempotency-Key``) or the caller says
        the write is naturally idempotent (``retry_writes``, e.g. an upsert or a DELETE).
        """
        send_headers = dict(headers or {})
        if idempotency_key is not None:
            send_headers["Idempotency-Key"] = idempotency_key
        retryable = method.upper() == "GET" or idempotency_key is not None or retry_writes
        attempts = 1 + (self.settings.max_retries if retryable else 0)
        deadline = time.monotonic() + self.settings.deadline
        last: ProviderError | None = None
        for attempt in range(attempts):
            if not self.breaker.allow():
                raise self._error(
                    ErrorKind.UNAVAILABLE,
                    f"circuit open; next probe in {self.breaker.retry_in():.1f}s",
                    code="circuit_open",
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.breaker.release_probe()
                raise last or self._error(ErrorKind.TIMEOUT, "deadline exceeded before sending")
            try:
                body = await asyncio.wait_for(
                    self._send(method, path, params, data, json_body, send_headers), remaining
                )
            except ProviderError as exc:
                last = exc
            except TimeoutError:
                last = self._error(
                    ErrorKind.TIMEOUT, f"no answer within the {self.settings.deadline:g}s deadline"
                )
                self.breaker.record_failure()
                raise last from None
            else:
                self.breaker.record_success()
                return body
            if last.kind in _BREAKER_FAILURES:
                self.breaker.record_failure()
            else:
                # 4xx and 429 say the provider is up: a verdict for the breaker.
                self.breaker.record_success()
            if not (last.retryable and attempt + 1 < attempts):
                raise last
            delay = backoff_delay(attempt, self.settings.backoff_base, self.settings.backoff_max)
            if last.retry_after is not None:
                delay = max(delay, last.retry_after)
            if time.monotonic() + delay >= deadline:
                raise last
            logger.info(
                "retrying %s %s on %s after %s (attempt %d, wait %.2fs)",
                method,
                path,
                self.provider,
                last.kind.value,
                attempt + 1,
                delay,
            )
            await asyncio.sleep(delay)
        raise last or self._error(ErrorKind.UNAVAILABLE, "no attempt was made")  # pragma: no cover

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None,
        data: Mapping[str, Any] | list[tuple[str, str]] | None,
        json_body: Any,
        headers: Mapping[str, str],
    ) -> Any:
        await self.rate_limiter.acquire()
        async with self._semaphore:
            try:
                response = await self.client.request(
                    method,
                    path,
                    params=params,
                    data=data,  # type: ignore[arg-type]
                    json=json_body,
                    headers=headers,
                )
            except httpx.TimeoutException as exc:
                raise self._error(
                    ErrorKind.TIMEOUT, f"{type(exc).__name__} calling {method} {path}"
                ) from None
            except httpx.TransportError as exc:
                raise self._error(
                    ErrorKind.UNAVAILABLE, f"{type(exc).__name__} calling {method} {path}"
                ) from None
        if response.status_code >= 400:
            parsed = self._error_parser(response)
            kind = kind_for_status(response.status_code)
            message = parsed.message or f"HTTP {response.status_code}"
            raise self._error(
                kind,
                message,
                status=response.status_code,
                code=parsed.code,
                retry_after=retry_after_seconds(response)
                if kind is ErrorKind.RATE_LIMITED
                else None,
            )
        if not response.content or response.status_code == 204:
            return None
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise self._error(
                ErrorKind.BAD_RESPONSE,
                f"malformed JSON in the answer to {method} {path} (HTTP {response.status_code})",
                status=response.status_code,
            ) from None


def json_error_parser(*paths: tuple[str, ...]) -> ErrorParser:
    """An :data:`ErrorParser` reading ``code``/``message`` from the first matching JSON paths.

    Each path is a tuple of keys ending at the message; the code is looked up beside it.
    """

    def parse(response: httpx.Response) -> UpstreamError:
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return UpstreamError(None, None)
        for path in paths:
            node: Any = body
            for key in path[:-1]:
                node = node.get(key) if isinstance(node, dict) else None
            if isinstance(node, dict) and path[-1] in node:
                message = node.get(path[-1])
                code = node.get("code") or node.get("type")
                return UpstreamError(
                    str(code) if code is not None else None,
                    str(message) if message is not None else None,
                )
        return UpstreamError(None, None)

    return parse
