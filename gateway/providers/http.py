"""The one pooled, resilient HTTP client behind every adapter.

Each provider gets one :class:`ProviderHTTP`: a long-lived ``httpx.AsyncClient`` plus timeouts,
an overall deadline, retries with backoff (reads always; writes only under an idempotency key),
a concurrency cap, a client-side rate limit and a circuit breaker. Every failure leaves as a
:class:`ProviderError`; the API key never appears in one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from httpx_aiohttp import AiohttpTransport

from gateway.config import ProviderSettings
from gateway.errors import ErrorKind, ProviderError
from gateway.providers.resilience import (
    BreakerState,
    CircuitBreaker,
    Permit,
    RateLimiter,
    backoff_delay,
)

logger = logging.getLogger("customer_gateway.providers")

_BREAKER_FAILURES = frozenset({ErrorKind.UNAVAILABLE, ErrorKind.TIMEOUT, ErrorKind.BAD_RESPONSE})

_upstream_calls: ContextVar[Counter[str] | None] = ContextVar("upstream_calls", default=None)


@contextlib.contextmanager
def count_upstream_calls() -> Iterator[Counter[str]]:
    """Count the HTTP requests sent to each provider within the block (this task and the tasks
    it starts), e.g. to log what one GraphQL request cost upstream."""
    counter: Counter[str] = Counter()
    token = _upstream_calls.set(counter)
    try:
        yield counter
    finally:
        _upstream_calls.reset(token)


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods retried without an idempotency key: they change nothing upstream."""
_FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class UpstreamError:
    """What an adapter reads out of a provider's error body."""

    code: str | None
    message: str | None


ErrorParser = Callable[[httpx.Response], UpstreamError]
"""Reads a provider's own error shape; must not raise."""


def kind_for_status(status: int) -> ErrorKind:
    """The error kind for a non-2xx status; a 3xx is an answer we cannot use."""
    if status < 400:
        return ErrorKind.BAD_RESPONSE
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


def retry_after_seconds(response: httpx.Response, *, rate_limit_reset: bool = True) -> float | None:
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


def _finite(raw: str) -> float | None:
    """``raw`` as a finite float, or ``None`` (``nan``/``inf`` are not waits)."""
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def _form_body(pairs: Sequence[tuple[str, Any]]) -> bytes:
    """Urlencode ordered, possibly repeated form pairs the way httpx encodes a mapping."""

    def text(value: Any) -> str:
        if value is True:
            return "true"
        if value is False:
            return "false"
        return "" if value is None else str(value)

    return urlencode([(key, text(value)) for key, value in pairs]).encode("utf-8")


def _secrets_for(api_key: str, auth_headers: Mapping[str, str]) -> tuple[str, ...]:
    """Every string that would reveal the key: the key and each auth header's credentials."""
    found = {api_key}
    for value in auth_headers.values():
        found.add(value)
        _, _, credentials = value.strip().partition(" ")
        found.add(credentials.strip())
    # Longest first, so a header value is masked whole before the key inside it.
    return tuple(sorted((s for s in found if s), key=len, reverse=True))


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
        self._secrets = _secrets_for(settings.api_key, auth_headers)
        timeout = httpx.Timeout(
            settings.timeouts.read,
            connect=settings.timeouts.connect,
            pool=settings.timeouts.deadline,
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
            # httpx's API on aiohttp's pool: httpcore's pool costs CPU per pooled connection
            # on every request (see docs/benchmarks.md).
            transport=transport or AiohttpTransport(limits=limits),
        )
        # Relative paths join the base URL as httpx would: base path + "/" + path.
        base = str(self.client.base_url)
        self._base = base if base.endswith("/") else base + "/"
        self.breaker = CircuitBreaker(settings.breaker.threshold, settings.breaker.reset)
        self.rate_limiter = RateLimiter(settings.rate_limit.rate, settings.rate_limit.burst)
        self._semaphore = asyncio.Semaphore(max(settings.max_concurrency, 1))

    def __repr__(self) -> str:
        return f"ProviderHTTP(provider={self.provider!r}, base_url={self.settings.base_url!r})"

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
            code=self._scrub(code) if code is not None else None,
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
        only when they carry ``idempotency_key`` (sent as ``Idempotency-Key``, identical on every
        attempt; an ``Idempotency-Key`` in ``headers`` counts too) or the caller says the write is
        naturally idempotent (``retry_writes``, e.g. an upsert or a DELETE). ``data`` given as a
        list of pairs is sent form-encoded in that order, repeated keys kept. The whole call,
        retries and waits included, ends within ``settings.timeouts.deadline``.
        """
        method = method.upper()
        send_headers = httpx.Headers(headers or {})
        if idempotency_key is not None:
            send_headers["Idempotency-Key"] = idempotency_key
        content: bytes | None = None
        form: Mapping[str, Any] | None = None
        if data is not None and not isinstance(data, Mapping):
            content = _form_body(data)
            send_headers.setdefault("Content-Type", _FORM_CONTENT_TYPE)
        else:
            form = data
        retryable = method in _SAFE_METHODS or "idempotency-key" in send_headers or retry_writes
        attempts = 1 + (max(0, self.settings.retry.max_retries) if retryable else 0)
        deadline = time.monotonic() + self.settings.timeouts.deadline
        last: ProviderError | None = None
        for attempt in range(attempts):
            permit = self.breaker.acquire()
            if permit is None:
                raise self._error(
                    ErrorKind.UNAVAILABLE,
                    f"circuit open; next probe in {self.breaker.retry_in():.1f}s",
                    code="circuit_open",
                )
            try:
                return await self._attempt(
                    permit, deadline, method, path, params, form, content, json_body, send_headers
                )
            except ProviderError as exc:
                last = exc
            if not (last.retryable and attempt + 1 < attempts):
                raise last
            delay = backoff_delay(
                attempt, self.settings.retry.backoff_base, self.settings.retry.backoff_max
            )
            if last.retry_after is not None:
                delay = max(delay, last.retry_after)
            if time.monotonic() + delay >= deadline:
                raise last
            logger.info(
                "retrying %s %s on %s after %s (attempt %d, wait %.2fs)",
                method,
                self._scrub(path),
                self.provider,
                last.kind.value,
                attempt + 1,
                delay,
            )
            await asyncio.sleep(delay)
        raise last or self._error(ErrorKind.UNAVAILABLE, "no attempt was made")  # pragma: no cover

    async def _attempt(
        self,
        permit: Permit,
        deadline: float,
        method: str,
        path: str,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None,
        data: Mapping[str, Any] | None,
        content: bytes | None,
        json_body: Any,
        headers: httpx.Headers,
    ) -> Any:
        """One attempt; reports its verdict to the breaker and frees a probe on every exit."""
        try:
            outcome, provider_up = await self._send(
                deadline, method, path, params, data, content, json_body, headers
            )
            if provider_up is False:
                self._record_failure(permit)
            elif provider_up is True:
                self.breaker.record_success(permit)
            if isinstance(outcome, ProviderError):
                raise outcome
            return outcome
        finally:
            # No-op after a verdict; frees the slot after a cancellation or a local timeout.
            self.breaker.release_probe(permit)

    def _absolute(self, path: str, params: Mapping[str, Any] | list[tuple[str, Any]] | None) -> str:
        """The request URL as one absolute string, query encoded by httpx's own rules.

        Same URL as ``base_url`` + ``path`` + ``params`` would give, but httpx then parses one
        URL instead of merging and re-parsing three times: ~50 µs less CPU per call
        (benchmarks/client_overhead.py).
        """
        url = self._base + path.lstrip("/")
        if params is not None:
            # Like httpx: given params (even empty) replace a query written into the path.
            query = str(httpx.QueryParams(params))
            url = url.partition("?")[0] + (f"?{query}" if query else "")
        return url

    def _record_failure(self, permit: Permit) -> None:
        before = self.breaker.state
        self.breaker.record_failure(permit)
        if before is not BreakerState.OPEN and self.breaker.state is BreakerState.OPEN:
            logger.warning(
                "circuit opened for %s after %d consecutive failures; next probe in %.1fs",
                self.provider,
                self.breaker.failures,
                self.breaker.retry_in(),
            )

    async def _send(
        self,
        deadline: float,
        method: str,
        path: str,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None,
        data: Mapping[str, Any] | None,
        content: bytes | None,
        json_body: Any,
        headers: httpx.Headers,
    ) -> tuple[Any, bool | None]:
        """Send once within the deadline.

        Returns the decoded body or a :class:`ProviderError`, and the breaker's verdict: ``True``
        (the provider answered), ``False`` (it failed) or ``None`` (we never reached it). Errors
        are built outside the ``except`` blocks so they carry no httpx exception (whose request
        holds the auth header) as context.
        """
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return self._error(ErrorKind.TIMEOUT, "deadline exceeded before sending"), None
        sending = False
        failure: tuple[ErrorKind, str] | None = None
        try:
            async with asyncio.timeout(remaining):
                await self.rate_limiter.acquire()
                async with self._semaphore:
                    sending = True
                    if (calls := _upstream_calls.get()) is not None:
                        calls[self.provider] += 1
                    response = await self.client.request(
                        method,
                        self._absolute(path, params),
                        data=data,
                        content=content,
                        json=json_body,
                        headers=headers,
                    )
        except TimeoutError:
            if not sending:
                # Queued behind our own cap or rate limit: no verdict on the provider.
                message = (
                    f"deadline of {self.settings.timeouts.deadline:g}s passed waiting for a slot"
                )
                return self._error(ErrorKind.TIMEOUT, message), None
            failure = (
                ErrorKind.TIMEOUT,
                f"no answer to {method} {path} within the "
                f"{self.settings.timeouts.deadline:g}s deadline",
            )
        except httpx.TimeoutException as exc:
            failure = (ErrorKind.TIMEOUT, f"{type(exc).__name__} calling {method} {path}")
        except httpx.DecodingError as exc:
            failure = (ErrorKind.BAD_RESPONSE, f"{type(exc).__name__} calling {method} {path}")
        except httpx.RequestError as exc:
            failure = (ErrorKind.UNAVAILABLE, f"{type(exc).__name__} calling {method} {path}")
        except httpx.InvalidURL as exc:
            message = f"{type(exc).__name__} for {method} {path}"
            return self._error(ErrorKind.BAD_REQUEST, message), None
        if failure is not None:
            return self._error(*failure), False
        if not 200 <= response.status_code < 300:
            error = self._status_error(response)
            return error, error.kind not in _BREAKER_FAILURES
        body = self._decode(response, method, path)
        return body, not isinstance(body, ProviderError)

    def _status_error(self, response: httpx.Response) -> ProviderError:
        """Normalise a non-2xx answer, reading the provider's own code and message."""
        try:
            parsed = self._error_parser(response)
        except Exception:  # a parser must not raise; if one does, keep the status
            parsed = UpstreamError(None, None)
        status = response.status_code
        kind = kind_for_status(status)
        retry_after: float | None = None
        if kind is ErrorKind.RATE_LIMITED:
            retry_after = retry_after_seconds(response)
        elif kind is ErrorKind.UNAVAILABLE:
            retry_after = retry_after_seconds(response, rate_limit_reset=False)
        return self._error(
            kind,
            parsed.message or f"HTTP {status}",
            status=status,
            code=parsed.code,
            retry_after=retry_after,
        )

    def _decode(self, response: httpx.Response, method: str, path: str) -> Any:
        """The JSON body, ``None`` for no body, or a BAD_RESPONSE error for malformed JSON."""
        if response.status_code == 204 or not response.content.strip():
            return None
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            pass
        return self._error(
            ErrorKind.BAD_RESPONSE,
            f"malformed JSON in the answer to {method} {path} (HTTP {response.status_code})",
            status=response.status_code,
        )


def json_error_parser(*paths: tuple[str, ...]) -> ErrorParser:
    """An :data:`ErrorParser` reading ``code``/``message`` from the first matching JSON paths.

    Each path is a tuple of keys ending at the message; the code is looked up beside it
    (``code``, else ``type``).
    """

    def parse(response: httpx.Response) -> UpstreamError:
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return UpstreamError(None, None)
        for path in paths:
            if not path:
                continue
            node: Any = body
            for key in path[:-1]:
                node = node.get(key) if isinstance(node, dict) else None
            if isinstance(node, dict) and path[-1] in node:
                message = node.get(path[-1])
                code = node.get("code")
                if code is None:
                    code = node.get("type")
                return UpstreamError(
                    str(code) if code is not None else None,
                    str(message) if message is not None else None,
                )
        return UpstreamError(None, None)

    return parse
