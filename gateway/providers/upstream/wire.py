"""One HTTP exchange, whatever client carries it: the request as plain data in, an
:class:`Answer` out, and one exception, :class:`WireFailure`, for a request that got none.

:class:`~gateway.providers.http.ProviderHTTP` sends through a :class:`Wire`. Production uses
:class:`~gateway.providers.upstream.h1_wire.H1Wire` (HTTP/1.1 on asyncio's transports, no request or
response models in between); :class:`HttpxWire` carries any httpx transport, which is what tests
inject (``httpx.MockTransport``, ASGI transports to the simulators).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any, Protocol

import httpx
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.errors import ErrorKind
from gateway.providers.upstream.classify import TransportFailure, classify_transport_error

__all__ = ["Answer", "HttpxWire", "Timeouts", "Wire", "WireFailure"]


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds to connect, between reads of the answer, and to wait for a pooled connection."""

    connect: float
    read: float
    pool: float


@dataclass(frozen=True, slots=True)
class Answer:
    """A provider's whole answer: status, headers (case-insensitive, read-only) and body."""

    status: int
    headers: CIMultiDictProxy[str]
    content: bytes

    def json(self) -> Any:
        """The body parsed as JSON (UTF-8/16/32 detected, as httpx's ``Response.json``)."""
        return json.loads(self.content)

    @property
    def text(self) -> str:
        """The body as text: the ``Content-Type`` charset if Python knows it, else UTF-8, bad
        bytes replaced (what httpx's ``Response.text`` gives)."""
        return self.content.decode(_charset(self.headers.get("content-type")), errors="replace")


def _charset(content_type: str | None) -> str:
    if content_type:
        message = Message()
        message["content-type"] = content_type
        charset = message.get_content_charset()
        if charset is not None:
            try:
                return codecs.lookup(charset).name
            except LookupError:
                pass
    return "utf-8"


class WireFailure(Exception):
    """No usable answer: the failure's kind and a short reason, never the library's exception
    (whose request holds the auth header), so it is raised with no cause or context."""

    def __init__(self, failure: TransportFailure) -> None:
        super().__init__(failure.reason)
        self.failure = failure

    @property
    def kind(self) -> ErrorKind:
        return self.failure.kind


class Wire(Protocol):
    """Sends one request and reads its whole answer; raises only :class:`WireFailure`."""

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeouts: Timeouts,
    ) -> Answer:
        """``url`` is absolute and already encoded: it goes on the wire as given."""
        ...

    async def aclose(self) -> None: ...


class HttpxWire:
    """Any httpx transport behind the :class:`Wire` interface (what tests inject)."""

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self.transport = transport

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeouts: Timeouts,
    ) -> Answer:
        failure: TransportFailure | None = None
        try:
            response = await self.transport.handle_async_request(
                httpx.Request(
                    method,
                    url,
                    headers=headers,
                    content=body,
                    # What httpx's client hands a transport; a new dict each time (a transport
                    # may write to it).
                    extensions={
                        "timeout": {
                            "connect": timeouts.connect,
                            "read": timeouts.read,
                            "write": timeouts.read,
                            "pool": timeouts.pool,
                        }
                    },
                )
            )
            try:
                await response.aread()  # the whole body; the stream closes at its end
            except BaseException:
                await response.aclose()  # a body cut short frees its connection
                raise
        except httpx.RequestError as exc:
            failure = classify_transport_error(exc)
        if failure is not None:
            # Raised outside the except block: no httpx exception rides along as context.
            raise WireFailure(failure)
        return Answer(
            response.status_code,
            CIMultiDictProxy(CIMultiDict(response.headers.multi_items())),
            response.content,
        )

    async def aclose(self) -> None:
        await self.transport.aclose()
