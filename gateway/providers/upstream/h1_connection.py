"""One HTTP/1.1 connection to a provider: one exchange at a time, the answer parsed by httptools
(uvicorn's parser, llhttp underneath) as its bytes arrive.

asyncio's transport does the socket and TLS work; this protocol only writes a request it is
given and assembles the answer from the parser's callbacks. :class:`~.h1_wire.H1Wire` pools
these and decides which to reuse.
"""

from __future__ import annotations

import asyncio
import zlib
from typing import Final, cast

import httptools
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.errors import ErrorKind
from gateway.providers.upstream.classify import TransportFailure
from gateway.providers.upstream.wire import Answer, WireFailure

__all__ = ["H1Connection", "decoded_content"]

_GZIP_WBITS: Final = 16 + zlib.MAX_WBITS
_ZLIB_OR_GZIP_WBITS: Final = 32 + zlib.MAX_WBITS
_NO_BODY_STATUSES: Final = frozenset({204, 304})
MAX_HEAD_BYTES: Final = 64 * 1024
"""Status line and headers larger than this are refused (Node allows 16 KiB, aiohttp 8 KiB a
line): a broken provider cannot grow our memory with a head that never ends."""

READ_TIMEOUT: Final = TransportFailure(ErrorKind.TIMEOUT, "ReadTimeout")
CUT_SHORT: Final = TransportFailure(ErrorKind.UNAVAILABLE, "ReadError")
HUNG_UP: Final = TransportFailure(ErrorKind.UNAVAILABLE, "connection failed (ServerDisconnected)")
GARBLED: Final = TransportFailure(ErrorKind.UNAVAILABLE, "RemoteProtocolError")
HEAD_TOO_LARGE: Final = TransportFailure(
    ErrorKind.UNAVAILABLE, "RemoteProtocolError (answer head over 64 KiB)"
)
UNDECODABLE: Final = TransportFailure(ErrorKind.BAD_RESPONSE, "DecodingError")


class H1Connection(asyncio.Protocol):
    """A kept-alive connection. :meth:`exchange` writes one request and returns the future of
    its :class:`~.wire.Answer` (or :class:`~.wire.WireFailure`).

    The read timeout is the time allowed between reads, as in httpx and aiohttp, kept with one
    timer per exchange that is moved only when it fires early (not one per read).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._answer: asyncio.Future[Answer] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._read_timeout = 0.0
        self._head_only = False
        self._in_head = False
        self._head_size = 0
        self._status = 0
        self._headers: list[tuple[str, str]] = []
        self._body: list[bytes] = []
        self.last_read = 0.0
        """Loop time of the last bytes read (or of the request written)."""
        self.received = 0
        """Bytes of the current answer read so far: 0 when the server hung up before answering."""
        self.reusable = False
        """The last answer came whole and the server keeps the connection open."""
        self.closed = False
        self.idle_since = 0.0

    # -- what the wire calls ---------------------------------------------------------------

    def exchange(
        self, request: bytes, read_timeout: float, *, head_only: bool = False
    ) -> asyncio.Future[Answer]:
        """Write ``request`` (head and body, already serialised) and return its answer's future.
        ``head_only``: the answer to a HEAD request has no body whatever its headers say."""
        transport = self._transport
        assert transport is not None and self._answer is None, "one exchange at a time"
        self._answer = answer = self._loop.create_future()
        if self.closed:  # the server hung up since this connection was handed out
            self._fail(HUNG_UP)
            return answer
        self._head_only = head_only
        self._headers = []
        self._body = []
        self.received = 0
        self.reusable = False
        self._read_timeout = read_timeout
        self.last_read = now = self._loop.time()
        self._timer = self._loop.call_at(now + read_timeout, self._check_reads)
        transport.write(request)
        return answer

    def close(self) -> None:
        self.closed = True
        self.reusable = False
        if self._transport is not None:
            self._transport.close()

    # -- asyncio's callbacks ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        if self._answer is None:
            # Bytes nobody asked for (an early 408, a second answer): the connection is out of
            # step with us and cannot be trusted with another request.
            self.close()
            return
        self.last_read = self._loop.time()
        self.received += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:  # HttpParserUpgrade included: we never ask for one
            self._fail(GARBLED)
            self.close()
            return
        if not self._status and self._answer is not None and self.received > MAX_HEAD_BYTES:
            self._fail(HEAD_TOO_LARGE)  # still no end of the head (a whole one is counted above)
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        if self._answer is None:
            return
        if exc is None and self._status and self._until_close():
            self._finish()  # a body delimited by the end of the connection has ended
        else:
            self._fail(CUT_SHORT if self.received else HUNG_UP)

    # -- httptools' callbacks --------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._answer is None:  # a second answer in the same read: out of step, as above
            self.close()
            return
        self._in_head = True
        self._head_size = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._in_head:  # not a chunked body's trailers: they are not the answer's headers
            self._head_size += len(name) + len(value)
            self._headers.append((name.decode("latin-1"), value.decode("latin-1").strip()))

    def on_headers_complete(self) -> None:
        self._in_head = False
        status = self._parser.get_status_code()
        if status < 100 or self._head_size > MAX_HEAD_BYTES:
            self._fail(GARBLED if status < 100 else HEAD_TOO_LARGE)
            self.close()
            return
        self._status = status
        if self._head_only and self._status >= 200:
            self.close()  # the parser would wait for a body that never comes
            self._finish()

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._answer is None:
            return
        if self._status < 200:  # 100 Continue and the like: the real answer follows
            self._status = 0
            self._headers = []
            return
        self.reusable = self._parser.should_keep_alive()
        self._finish()
        if not self.reusable:
            self.close()

    # -- internals -------------------------------------------------------------------------

    def _until_close(self) -> bool:
        """Whether the answer's body is delimited by the server closing the connection (no
        ``Content-Length``, not chunked, a status that may have a body)."""
        if self._status in _NO_BODY_STATUSES or self._status < 200:
            return False
        for name, value in self._headers:
            lowered = name.lower()
            if lowered == "content-length":
                return False
            if lowered == "transfer-encoding" and "chunked" in value.lower():
                return False
        return True

    def _check_reads(self) -> None:
        if self._answer is None:
            return
        quiet_until = self.last_read + self._read_timeout
        if self._loop.time() >= quiet_until:
            self._fail(READ_TIMEOUT)
            self.close()
        else:
            self._timer = self._loop.call_at(quiet_until, self._check_reads)

    def _settle(self) -> asyncio.Future[Answer] | None:
        answer, self._answer = self._answer, None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        return answer if answer is not None and not answer.done() else None

    def _finish(self) -> None:
        answer = self._settle()
        status, self._status = self._status, 0
        if answer is None:
            return
        headers = CIMultiDictProxy(CIMultiDict(self._headers))
        content = b"".join(self._body)
        encoding = headers.get("content-encoding")
        if encoding is not None and content:  # an empty body (204, HEAD, 304) has none to undo
            decoded = decoded_content(content, encoding)
            if decoded is None:
                answer.set_exception(WireFailure(UNDECODABLE))
                return
            content = decoded
        answer.set_result(Answer(status, headers, content))

    def _fail(self, failure: TransportFailure) -> None:
        self.reusable = False
        self._status = 0
        answer = self._settle()
        if answer is not None:
            answer.set_exception(WireFailure(failure))


def decoded_content(content: bytes, encoding: str) -> bytes | None:
    """``content`` with its ``Content-Encoding`` undone (gzip and deflate, the ones we ask
    for; others are left as they are, as httpx and aiohttp leave them); ``None`` if it does not
    decode."""
    for coding in reversed(encoding.lower().split(",")):
        coding = coding.strip()
        if coding in ("gzip", "x-gzip"):
            wbits = _GZIP_WBITS
        elif coding == "deflate":
            # RFC 9110's deflate is zlib-wrapped; some servers send it raw.
            wbits = _ZLIB_OR_GZIP_WBITS if content[:1] == b"\x78" else -zlib.MAX_WBITS
        else:
            continue
        unpacker = zlib.decompressobj(wbits)
        try:
            content = unpacker.decompress(content) + unpacker.flush()
        except zlib.error:
            return None
        if not unpacker.eof:
            return None  # cut short
    return content
