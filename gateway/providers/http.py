"""The one pooled, resilient HTTP client behind every adapter.

Each provider gets one :class:`ProviderHTTP`: a long-lived pooled wire (HTTP/1.1 on asyncio)
plus timeouts, an overall deadline, retries with backoff (reads always; writes only under an
idempotency key), a concurrency cap, a client-side rate limit, a rate-limit cool-down and a
circuit breaker. Every failure leaves as a :class:`ProviderError`; the API key never appears in
one. A call made for a GraphQL request also ends by that request's deadline and with it
(gateway/request_scope.py). Attempts, retries, circuit openings and rate-limit waits are
reported to the :class:`~gateway.telemetry.upstream.UpstreamTelemetry` it is built with
(metrics and spans; nothing by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Mapping
from typing import Any

import httpx
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.config import ProviderSettings
from gateway.errors import ErrorKind, ProviderError
from gateway.providers.health import ProviderHealth
from gateway.providers.resilience import (
    BreakerState,
    CircuitBreaker,
    Limiter,
    Permit,
    RateLimiter,
    SharedCircuit,
)
from gateway.providers.upstream.answers import decoded, status_error
from gateway.providers.upstream.classify import (
    TransportFailure,
    counts_against_provider,
    kind_for_status,
)
from gateway.providers.upstream.counting import counted
from gateway.providers.upstream.error_body import ErrorParser, UpstreamError, json_error_parser
from gateway.providers.upstream.gate import CircuitGate
from gateway.providers.upstream.h1_wire import H1Wire
from gateway.providers.upstream.redact import redact, secrets_for
from gateway.providers.upstream.request import (
    USER_AGENT,
    FormData,
    Headers,
    Params,
    ProviderURLs,
    UpstreamRequest,
    encode_body,
    merged_headers,
    request_headers,
)
from gateway.providers.upstream.retry import SAFE_METHODS, may_retry, retry_delay
from gateway.providers.upstream.retry_after import retry_after_seconds
from gateway.providers.upstream.wire import Answer, HttpxWire, Timeouts, Wire, WireFailure
from gateway.request_scope import RequestScope, current_scope
from gateway.telemetry.upstream import NO_TELEMETRY, Attempt, UpstreamTelemetry

__all__ = [
    "Answer",
    "ErrorParser",
    "ProviderHTTP",
    "UpstreamError",
    "UpstreamRequest",
    "json_error_parser",
    "kind_for_status",
    "retry_after_seconds",
]

logger = logging.getLogger("customer_gateway.providers")


def _deadline_text(scope: RequestScope | None, own: float) -> str:
    """Which deadline ends a call: its request's when that comes first, else its own."""
    return f"the request's {scope.seconds:g}s deadline" if scope else f"the {own:g}s deadline"


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
        telemetry: UpstreamTelemetry = NO_TELEMETRY,
    ) -> None:
        self.settings = settings
        self.provider = settings.name
        self._error_parser = error_parser
        self._secrets = secrets_for(settings.api_key, auth_headers)
        # HTTP/1.1 on asyncio's transports (H1Wire): less than half aiohttp's CPU per call, and
        # no httpx models in between, which cost more than the whole resilience layer
        # (docs/benchmarks.md). A given httpx transport (tests: mocks, ASGI apps) is carried
        # by HttpxWire; both send the same bytes (tests/providers/upstream).
        self.wire: Wire = (
            HttpxWire(transport)
            if transport is not None
            else H1Wire(max(settings.max_concurrency, 1))
        )
        self.transport = transport
        """The httpx transport given, if any (``None`` in production)."""
        self._timeouts = Timeouts(
            connect=settings.timeouts.connect,
            read=settings.timeouts.read,
            pool=settings.timeouts.deadline,
        )
        self.headers: Headers = CIMultiDictProxy(
            CIMultiDict(
                {
                    "Accept": "application/json",
                    "User-Agent": USER_AGENT,
                    **(default_headers or {}),
                    **auth_headers,
                }
            )
        )
        """Sent with every request; a request's own headers win."""
        self.urls = ProviderURLs(settings.base_url)
        self._answer_within = settings.timeouts.connect + settings.timeouts.read
        """Seconds an attempt may take from sending to the last byte of the answer: the read
        timeout bounds each read, so a body that trickles in would otherwise run on."""
        self.rate_limiter: Limiter = RateLimiter(
            settings.rate_limit.rate, settings.rate_limit.burst
        )
        self._semaphore = asyncio.Semaphore(max(settings.max_concurrency, 1))
        breaker = CircuitBreaker(settings.breaker.threshold, settings.breaker.reset)
        self.gate = CircuitGate(self.provider, breaker, ProviderHealth(), telemetry, self._error)
        """Refusals before a call and the breaker's verdict after it (upstream/gate.py)."""
        telemetry.watch_circuit(self.provider, breaker)

    @property
    def breaker(self) -> CircuitBreaker:
        return self.gate.breaker

    @breaker.setter
    def breaker(self, breaker: CircuitBreaker) -> None:
        self.gate.breaker = breaker

    @property
    def health(self) -> ProviderHealth:
        """What the provider's last answers said (/readyz reads it)."""
        return self.gate.health

    @health.setter
    def health(self, health: ProviderHealth) -> None:
        self.gate.health = health

    @property
    def shared(self) -> SharedCircuit | None:
        """Openings and cool-downs shared with other replicas (:meth:`share`); none alone."""
        return self.gate.shared

    @property
    def telemetry(self) -> UpstreamTelemetry:
        return self.gate.telemetry

    @telemetry.setter
    def telemetry(self, telemetry: UpstreamTelemetry) -> None:
        self.gate.telemetry = telemetry

    def __repr__(self) -> str:
        return f"ProviderHTTP(provider={self.provider!r}, base_url={self.settings.base_url!r})"

    async def aclose(self) -> None:
        await self.wire.aclose()

    def share(self, limiter: Limiter, circuit: SharedCircuit) -> None:
        """Take the rate limit and circuit announcements the replicas share (gateway/shared):
        one budget for all of them, and a provider one finds down is failed fast by all."""
        self.rate_limiter = limiter
        self.gate.shared = circuit

    def _scrub(self, text: str) -> str:
        return redact(text, self._secrets)

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
        params: Params | None = None,
        data: FormData | None = None,
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
        own = request_headers(headers, idempotency_key)
        body, content_type = encode_body(data, json_body)
        upstream = UpstreamRequest(
            method=method,
            path=path,
            url=self._url(method, path, params),
            headers=merged_headers(self.headers, own, content_type),
            body=body,
            retryable=may_retry(method, own, retry_writes=retry_writes),
        )
        return await self._run(upstream)

    async def _run(self, upstream: UpstreamRequest) -> Any:
        """One logical call: fail fast while the provider cools down or its circuit is open,
        else attempt until the policy stops; the breaker hears one verdict for the whole call.

        The call ends by its own deadline or its request's, whichever comes first, and is
        cancelled with its request (:meth:`RequestScope.call`).
        """
        scope = current_scope()
        deadline = time.monotonic() + self.settings.timeouts.deadline
        if scope is not None:
            if scope.ended:
                raise self._error(
                    ErrorKind.TIMEOUT,
                    f"{upstream.method} {upstream.path} not sent: its request has ended",
                )
            deadline = min(deadline, scope.deadline)
        if (refused := self.gate.refusal()) is not None:
            raise refused
        permit = self.breaker.acquire()
        if permit is None:
            raise self.gate.circuit_open()
        tracked = scope.call(write=upstream.method not in SAFE_METHODS) if scope else None
        try:
            with tracked or contextlib.nullcontext():
                outcome, judged = await self._attempts(permit, upstream, deadline)
            before = self.breaker.state
            self.gate.report(permit, judged)
        finally:
            # No-op after a verdict; frees the slot after a cancellation or a call with none.
            self.breaker.release_probe(permit)
        if self.gate.shared is not None:  # alone, no coroutine per call for nothing
            await self.gate.announce(before, outcome)
        if isinstance(outcome, ProviderError):
            raise outcome
        return outcome

    async def _attempts(
        self, permit: Permit, upstream: UpstreamRequest, deadline: float
    ) -> tuple[Any, tuple[Any, bool] | None]:
        """Send until an answer, the retry policy gives up, or the circuit or a cool-down stops
        the retries. Returns the last outcome (a body or a :class:`ProviderError`) and the last
        outcome that said something about the provider, with that verdict (``None`` if none)."""
        judged: tuple[Any, bool] | None = None
        attempt = 0
        while True:
            call = self.telemetry.attempt(self.provider, upstream.method, attempt)
            try:
                outcome, provider_up = await self._send(upstream, deadline, call)
                call.done(outcome.kind.value if isinstance(outcome, ProviderError) else None)
            finally:
                call.close()  # ends the span of an attempt cancelled on its way
            self.health.record(outcome, provider_up)  # /readyz: the one place outcomes are seen
            if provider_up is not None:
                judged = (outcome, provider_up)
            if not isinstance(outcome, ProviderError):
                return outcome, judged
            delay = retry_delay(
                self.settings.retry,
                attempt,
                outcome,
                retryable=upstream.retryable,
                now=time.monotonic(),
                deadline=deadline,
            )
            if delay is None:
                return outcome, judged
            self.telemetry.retry(self.provider, outcome.kind.value)
            logger.info(
                "retrying %s %s on %s after %s (attempt %d, wait %.2fs)",
                upstream.method,
                self._scrub(upstream.path),
                self.provider,
                outcome.kind.value,
                attempt + 1,
                delay,
            )
            await asyncio.sleep(delay)
            attempt += 1
            if (stopped := self.gate.cooling_down()) is not None:
                return stopped, judged
            if self.breaker.state is not BreakerState.CLOSED and not permit.is_probe:
                return self.gate.circuit_open(), judged

    def _url(self, method: str, path: str, params: Params | None) -> str:
        """The absolute URL as httpx encodes it (what goes on the wire), built once for every
        attempt; one httpx cannot parse is a bad request (never sent, no verdict on the
        provider)."""
        url = self.urls.build(path, params)
        if url is None:
            raise self._error(ErrorKind.BAD_REQUEST, f"InvalidURL for {method} {path}")
        return url

    async def _send(
        self, upstream: UpstreamRequest, deadline: float, call: Attempt
    ) -> tuple[Any, bool | None]:
        """Send once within the deadline.

        Returns the decoded body or a :class:`ProviderError`, and the breaker's verdict: ``True``
        (the provider answered), ``False`` (it failed) or ``None`` (we never reached it). Errors
        are built outside the ``except`` blocks so they carry no httpx exception (whose request
        holds the auth header) as context.
        """
        method, path = upstream.method, upstream.path
        remaining = deadline - time.monotonic()
        scope = current_scope()
        by_request = scope is not None and scope.deadline <= deadline
        limit = _deadline_text(scope if by_request else None, self.settings.timeouts.deadline)
        if remaining <= 0:
            return self._error(ErrorKind.TIMEOUT, f"{limit} passed before sending"), None
        sending = False
        answer_due = False
        failure: TransportFailure | None = None
        try:
            # One timer for both limits (each costs ~4 µs a call): the deadline, moved up to
            # when the answer is due once sent, if that comes first.
            async with asyncio.timeout(remaining) as timer:
                waited = await self.rate_limiter.acquire()
                self.telemetry.rate_limited(self.provider, waited)
                async with self._semaphore:
                    sending = True
                    counted(self.provider)
                    due = asyncio.get_running_loop().time() + self._answer_within
                    if due < (timer.when() or math.inf):
                        timer.reschedule(due)
                        answer_due = True
                    response = await self.wire.send(
                        method,
                        upstream.url,
                        # telemetry: the attempt's clock and span start here
                        call.sending(upstream.headers),
                        upstream.body,
                        self._timeouts,
                    )
                    call.answered(response.status)
        except TimeoutError:
            if answer_due and timer.expired():
                failure = TransportFailure(
                    ErrorKind.TIMEOUT,
                    f"no complete answer to {method} {path} within {self._answer_within:g}s "
                    "(connect + read timeout)",
                )
            elif not sending:
                # Queued behind our own cap or rate limit: no verdict on the provider.
                return self._error(ErrorKind.TIMEOUT, f"{limit} passed waiting for a slot"), None
            elif by_request:
                # The request ran out of time, not necessarily the provider: no verdict.
                message = f"no answer to {method} {path} within {limit}"
                return self._error(ErrorKind.TIMEOUT, message), None
            else:
                failure = TransportFailure(
                    ErrorKind.TIMEOUT, f"no answer to {method} {path} within {limit}"
                )
        except WireFailure as exc:
            found = exc.failure
            failure = TransportFailure(found.kind, f"{found.reason} calling {method} {path}")
        if failure is not None:
            return self._error(failure.kind, failure.reason), False
        if not 200 <= response.status < 300:
            error = status_error(response, self._error_parser, self._error)
            return error, not counts_against_provider(error.kind)
        body = decoded(response, method, path, self._error)
        return body, not isinstance(body, ProviderError)
