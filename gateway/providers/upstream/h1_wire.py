"""The production :class:`~gateway.providers.upstream.wire.Wire`: HTTP/1.1 on asyncio's own
transports, a pool of kept-alive :class:`~.h1_connection.H1Connection` per origin.

Why not aiohttp, which this replaced: its client spent ~35 µs of CPU per call more than this
(ClientSession's per-request machinery: URL and header objects, cookie, proxy, redirect and
tracing hooks, timer contexts, stream readers), ~200 µs of a ~1 ms ``customerByEmail`` at
2.74 calls (docs/benchmarks.md, "Client cost per upstream call"). No other maintained client
measured close (aiosonic, BlackSheep's, curl_cffi; pyreqwest pays a thread crossing per answer).
What is ours is small on purpose: the pool, the request head and the error kinds. Sockets, TLS
and flow control are asyncio's; parsing (chunked, lengths, keep-alive rules) is httptools';
Happy Eyeballs for new connections is aiohappyeyeballs'.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from socket import SOCK_STREAM
from typing import Final
from urllib.parse import urlsplit

import aiohappyeyeballs
import httpx

from gateway.errors import ErrorKind
from gateway.providers.upstream.classify import TransportFailure
from gateway.providers.upstream.h1_connection import HUNG_UP, H1Connection
from gateway.providers.upstream.retry import SAFE_METHODS
from gateway.providers.upstream.wire import Answer, Timeouts, WireFailure

__all__ = ["KEEPALIVE_SECONDS", "H1Wire"]

KEEPALIVE_SECONDS: Final = 4.0
"""How long an idle connection is kept: under the 5 s that uvicorn and Node close theirs after,
so we do not pick one the server is closing (a read that meets one is sent once more)."""
ACCEPT_ENCODING: Final = "Accept-Encoding: gzip, deflate"
"""What aiohttp asked for; :func:`~.h1_connection.decoded_content` undoes both."""
HAPPY_EYEBALLS_DELAY: Final = 0.25
"""Seconds before trying a provider's next address while the first still connects (RFC 8305's
recommended delay, aiohttp's default)."""
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})
_OWN_HEADERS: Final = frozenset({"host", "content-length", "transfer-encoding"})

CONNECT_TIMEOUT: Final = TransportFailure(ErrorKind.TIMEOUT, "ConnectTimeout")
POOL_TIMEOUT: Final = TransportFailure(ErrorKind.TIMEOUT, "PoolTimeout")
REFUSED: Final = TransportFailure(ErrorKind.UNAVAILABLE, "connection refused")
UNSUPPORTED: Final = TransportFailure(ErrorKind.UNAVAILABLE, "UnsupportedProtocol")
BAD_HEADER: Final = TransportFailure(
    ErrorKind.BAD_REQUEST,
    "invalid header (a name that is not a token, or a control or non-ASCII character)",
)
_TOKEN: Final = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_HEAD: Final = re.compile(
    rf"{_TOKEN} [\x21-\x7e]+ HTTP/1\.1\r\n(?:{_TOKEN}:[\t\x20-\x7e]*\r\n)*\r\n"
)
"""A request head as RFC 9110 allows it: token names, values of visible ASCII, spaces and
tabs (no line breaks to inject a header with; non-ASCII refused, as httpx refuses it)."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a pool's connections go, and the ``Host`` its requests carry."""

    host: str
    port: int
    tls: bool
    authority: str


@dataclass(slots=True)
class Pool:
    """One origin's connections: idle ones (most recent last), how many are open or opening,
    and the callers waiting for one to free up."""

    origin: Origin
    idle: list[H1Connection] = field(default_factory=list)
    opened: int = 0
    waiters: deque[asyncio.Future[None]] = field(default_factory=deque)


class H1Wire:
    """At most ``max_connections`` connections per origin, kept alive between calls."""

    def __init__(self, max_connections: int, *, tls: ssl.SSLContext | None = None) -> None:
        self.max_connections = max(max_connections, 1)
        self._tls = tls
        self._pools: dict[str, Pool] = {}
        self._sweep: asyncio.TimerHandle | None = None
        self._closed = False

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeouts: Timeouts,
    ) -> Answer:
        pool, target = self._route(url)
        request = serialised(method, target, pool.origin.authority, headers, body)
        loop = asyncio.get_running_loop()
        # Reads only: whether a write may go twice is ProviderHTTP's retry policy to decide.
        resend = method in SAFE_METHODS
        while True:
            connection, reused = await self._acquire(loop, pool, timeouts)
            failure: WireFailure | None = None
            try:
                return await connection.exchange(request, timeouts.read, head_only=method == "HEAD")
            except WireFailure as exc:
                failure = exc
            except BaseException:
                connection.close()  # cancelled mid-answer: the rest would arrive unasked
                raise
            finally:
                self._release(loop, pool, connection)
            if not (resend and reused and failure.failure is HUNG_UP):
                raise failure
            resend = False  # the server closed a kept-alive connection as we reused it

    async def aclose(self) -> None:
        self._closed = True
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        for pool in self._pools.values():
            for connection in pool.idle:
                connection.close()
            pool.opened -= len(pool.idle)
            pool.idle.clear()

    # -- the pool --------------------------------------------------------------------------

    async def _acquire(
        self, loop: asyncio.AbstractEventLoop, pool: Pool, timeouts: Timeouts
    ) -> tuple[H1Connection, bool]:
        """An idle connection (``True``: reused) or a new one; waits up to ``timeouts.pool``
        while ``max_connections`` are busy."""
        deadline: float | None = None
        while True:
            now = loop.time()
            while pool.idle:
                connection = pool.idle.pop()
                if not _spent(connection, now):
                    return connection, True
                connection.close()
                pool.opened -= 1
            if pool.opened < self.max_connections:
                pool.opened += 1
                try:
                    return await self._connect(loop, pool.origin, timeouts.connect), False
                except BaseException:
                    pool.opened -= 1
                    self._wake(pool)
                    raise
            if deadline is None:
                deadline = now + timeouts.pool
            await self._wait_for_slot(loop, pool, deadline)

    async def _wait_for_slot(
        self, loop: asyncio.AbstractEventLoop, pool: Pool, deadline: float
    ) -> None:
        """Until a slot frees up (then the caller looks again) or ``deadline``."""
        waiter: asyncio.Future[None] = loop.create_future()
        pool.waiters.append(waiter)
        woken = timed_out = False
        try:
            async with asyncio.timeout_at(deadline):
                await waiter
            woken = True
        except TimeoutError:
            timed_out = True
        finally:
            if not woken:
                if waiter.done() and not waiter.cancelled():
                    self._wake(pool)  # woken, but leaving without the slot: pass it on
                waiter.cancel()
        if timed_out:
            raise WireFailure(POOL_TIMEOUT)

    def _release(
        self, loop: asyncio.AbstractEventLoop, pool: Pool, connection: H1Connection
    ) -> None:
        if connection.reusable and not connection.closed and not self._closed:
            connection.idle_since = loop.time()
            pool.idle.append(connection)
            if self._sweep is None:
                self._sweep = loop.call_later(KEEPALIVE_SECONDS, self._close_expired, loop)
        else:
            connection.close()
            pool.opened -= 1
        self._wake(pool)

    def _wake(self, pool: Pool) -> None:
        """Hand a freed slot (or idle connection) to the longest waiter still waiting."""
        while pool.waiters:
            waiter = pool.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _close_expired(self, loop: asyncio.AbstractEventLoop) -> None:
        """Close connections idle for :data:`KEEPALIVE_SECONDS` (one timer per wire, not per
        connection); run again while any stay idle."""
        self._sweep = None
        now = loop.time()
        oldest: float | None = None
        for pool in self._pools.values():
            kept = []
            for connection in pool.idle:
                if _spent(connection, now):
                    connection.close()
                    pool.opened -= 1
                else:
                    kept.append(connection)
                    if oldest is None or connection.idle_since < oldest:
                        oldest = connection.idle_since
            if len(kept) != len(pool.idle):
                pool.idle[:] = kept
                self._wake(pool)
        if oldest is not None:
            self._sweep = loop.call_at(oldest + KEEPALIVE_SECONDS, self._close_expired, loop)

    # -- connections -----------------------------------------------------------------------

    def _route(self, url: str) -> tuple[Pool, str]:
        """The pool for ``url``'s origin and the request target (path and query)."""
        scheme_end = url.find("://") + 3
        end = len(url)
        for mark in "/?#":
            found = url.find(mark, scheme_end)
            if 0 <= found < end:
                end = found
        target = url[end:].partition("#")[0]
        if not target.startswith("/"):
            target = "/" + target
        key = url[:end]
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = Pool(_origin(key))
        return pool, target

    async def _connect(
        self, loop: asyncio.AbstractEventLoop, origin: Origin, within: float
    ) -> H1Connection:
        tls = self._tls_context() if origin.tls else None
        failure: TransportFailure | None = None
        try:
            async with asyncio.timeout(within):
                addresses = await loop.getaddrinfo(origin.host, origin.port, type=SOCK_STREAM)
                # Happy Eyeballs (RFC 8305), as aiohttp did: an address family that hangs
                # (IPv6 routed nowhere) costs 0.25 s, not the connect timeout. uvloop's
                # create_connection has no such option, so the socket is connected first.
                sock = await aiohappyeyeballs.start_connection(
                    addresses, happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY, interleave=1
                )
                try:
                    _, connection = await loop.create_connection(
                        partial(H1Connection, loop),
                        sock=sock,
                        ssl=tls,
                        server_hostname=origin.host if tls is not None else None,
                    )
                except BaseException:
                    sock.close()
                    raise
        except TimeoutError:
            failure = CONNECT_TIMEOUT
        except ConnectionRefusedError:
            failure = REFUSED
        except (OSError, UnicodeError) as exc:  # DNS (IDNA too), unreachable, TLS
            failure = TransportFailure(
                ErrorKind.UNAVAILABLE, f"connection failed ({type(exc).__name__})"
            )
        if failure is not None:
            # Raised outside the except block: no library exception rides along as context.
            raise WireFailure(failure)
        return connection

    def _tls_context(self) -> ssl.SSLContext:
        """The trust store httpx uses (certifi, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``), built
        on first use (loading it takes milliseconds)."""
        if self._tls is None:
            self._tls = httpx.create_ssl_context()
        return self._tls


def _spent(connection: H1Connection, now: float) -> bool:
    """An idle connection not to reuse: closed by the server, or idle past the keep-alive."""
    return connection.closed or now - connection.idle_since >= KEEPALIVE_SECONDS


def _origin(key: str) -> Origin:
    """``scheme://authority`` as an :class:`Origin`; anything but http(s) is refused."""
    try:
        parts = urlsplit(key)
        port, host = parts.port, parts.hostname
    except ValueError:  # an unclosed IPv6 bracket, a port that is not a number
        port = host = None
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise WireFailure(UNSUPPORTED)
    tls = parts.scheme == "https"
    authority = parts.netloc.rpartition("@")[2]  # never send credentials in Host
    return Origin(host, port if port is not None else 443 if tls else 80, tls, authority)


def serialised(
    method: str, target: str, authority: str, headers: Mapping[str, str], body: bytes | None
) -> bytes:
    """The request's bytes: line, ``Host`` first (as httpx orders it), the caller's headers in
    their order, ``Accept-Encoding`` unless given, ``Content-Length`` for a body (0 for a
    bodiless POST, PUT or PATCH), then the body."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {authority}"]
    encodings_given = False
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in _OWN_HEADERS:
            continue  # from the URL and the body, never the caller's
        encodings_given = encodings_given or lowered == "accept-encoding"
        lines.append(f"{name}: {value}")
    if not encodings_given:
        lines.append(ACCEPT_ENCODING)
    if body is not None or method in _BODY_METHODS:
        lines.append(f"Content-Length: {len(body) if body is not None else 0}")
    lines.append("\r\n")
    head = "\r\n".join(lines)
    # The shape of every line (~0.7 µs for a whole head), and one line break per line: a value
    # with its own CR LF would otherwise pass as two well-formed lines.
    if _HEAD.fullmatch(head) is None or head.count("\n") != len(lines):
        raise WireFailure(BAD_HEADER)
    return head.encode() + body if body else head.encode()
