"""What kind of failure an answer or a transport error is, and which kinds count against the
provider in the circuit breaker."""

from __future__ import annotations

import errno
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import httpx

from gateway.errors import ErrorKind

BREAKER_FAILURES: Final = frozenset(
    {ErrorKind.UNAVAILABLE, ErrorKind.TIMEOUT, ErrorKind.BAD_RESPONSE}
)
"""Kinds that say the provider is unwell; the rest (4xx, 429) say it answered."""
_MAX_CHAIN: Final = 16


def counts_against_provider(kind: ErrorKind) -> bool:
    """Whether an error of ``kind`` is a failure for the circuit breaker."""
    return kind in BREAKER_FAILURES


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


@dataclass(frozen=True, slots=True)
class TransportFailure:
    """A request that got no usable answer: its kind and a short reason for the message.

    Plain data, so the error built from it carries no httpx exception (whose request holds the
    auth header) as context.
    """

    kind: ErrorKind
    reason: str


def classify_transport_error(exc: httpx.RequestError) -> TransportFailure:
    """The kind of a transport failure, judged by what actually went wrong underneath.

    httpx-aiohttp maps every ``aiohttp.ClientConnectionError`` it does not know better to
    ``httpx.ConnectTimeout``: a refused connection, a failed DNS lookup and a server that hung
    up all arrive as "timeouts". The exception chain tells them apart: a refused connection is
    ``unavailable`` (said so in the reason), another non-timeout connection failure is
    ``unavailable`` too, and only a chain with a real timeout in it (or none at all) stays a
    ``timeout``.
    """
    name = type(exc).__name__
    causes = list(_causes(exc))
    if any(_is_refusal(cause) for cause in causes):
        return TransportFailure(ErrorKind.UNAVAILABLE, "connection refused")
    if isinstance(exc, httpx.TimeoutException):
        if any(isinstance(cause, TimeoutError) for cause in causes):
            return TransportFailure(ErrorKind.TIMEOUT, name)
        for cause in causes:
            if _is_aiohttp_connection_error(cause):
                reason = f"connection failed ({type(cause).__name__})"
                return TransportFailure(ErrorKind.UNAVAILABLE, reason)
        return TransportFailure(ErrorKind.TIMEOUT, name)
    if isinstance(exc, httpx.DecodingError):
        return TransportFailure(ErrorKind.BAD_RESPONSE, name)
    return TransportFailure(ErrorKind.UNAVAILABLE, name)


def _is_aiohttp_connection_error(exc: BaseException) -> bool:
    """Whether ``exc`` is aiohttp's connection error; aiohttp is not a dependency of the
    gateway (only of the httpx-aiohttp transport tests inject), so none can occur unless it was
    imported."""
    aiohttp = sys.modules.get("aiohttp")
    return aiohttp is not None and isinstance(exc, aiohttp.ClientConnectionError)


def _is_refusal(exc: BaseException) -> bool:
    return isinstance(exc, ConnectionRefusedError) or (
        isinstance(exc, OSError) and exc.errno == errno.ECONNREFUSED
    )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exceptions ``exc`` was raised from or while handling, nearest first (bounded)."""
    seen = {id(exc)}
    pending = [exc]
    while pending and len(seen) <= _MAX_CHAIN:
        current = pending.pop(0)
        for linked in (current.__cause__, current.__context__):
            if linked is not None and id(linked) not in seen:
                seen.add(id(linked))
                pending.append(linked)
                yield linked
