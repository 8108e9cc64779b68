"""What only the production wire does: its pool and keep-alive rules, answers in every shape
HTTP/1.1 allows, timeouts, cancellation and TLS, against a raw server on loopback.
test_wire.py checks it sends and reads what the httpx transports do."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import trustme

from gateway.errors import ErrorKind
from gateway.providers.upstream import h1_wire
from gateway.providers.upstream.h1_wire import H1Wire
from gateway.providers.upstream.wire import Answer, Timeouts, WireFailure
from tests.providers.upstream.raw_server import JSON, RawServer, Received, Respond, Then, reply

TIMEOUTS = Timeouts(connect=5.0, read=5.0, pool=5.0)
OK = reply(200, b'{"ok": true}', JSON)
Serve = Callable[..., Awaitable[RawServer]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start a :class:`RawServer` answering with ``respond``; all are stopped at the end."""
    started: list[RawServer] = []

    async def start(
        respond: Respond, pause: float = 0.0, tls: ssl.SSLContext | None = None
    ) -> RawServer:
        server = RawServer(respond, pause=pause, tls=tls)
        await server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.stop()


async def get(wire: H1Wire, url: str, method: str = "GET", **changes: float) -> Answer:
    timeouts = Timeouts(**{"connect": 5.0, "read": 5.0, "pool": 5.0, **changes})
    return await wire.send(method, url, {"Accept": "application/json"}, None, timeouts)


async def failure_of(call: Awaitable[Answer]) -> WireFailure:
    with pytest.raises(WireFailure) as info:
        await call
    assert info.value.__cause__ is None and info.value.__context__ is None
    return info.value


# -- answers in every shape ------------------------------------------------------------------


async def test_chunked_close_delimited_and_interim_answers(serve: Serve) -> None:
    chunked = (
        b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"a":\r\n3\r\n 1}\r\n0\r\n\r\n'
    )
    interim = b"HTTP/1.1 100 Continue\r\n\r\n" + reply(201, b"{}", JSON, ("X-Final", "yes"))
    until_close = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"whole": 1}'

    def respond(received: Received) -> tuple[bytes, Then]:
        path = received.line.split(b" ")[1]
        if path == b"/chunked":
            return chunked, "keep"
        if path == b"/interim":
            return interim, "keep"
        return until_close, "close"

    server = await serve(respond)
    wire = H1Wire(2)
    answer = await get(wire, server.url + "/chunked")
    assert (answer.status, answer.content) == (200, b'{"a": 1}')
    answer = await get(wire, server.url + "/interim")
    assert (answer.status, answer.content, answer.headers["x-final"]) == (201, b"{}", "yes")
    answer = await get(wire, server.url + "/until-close")
    assert (answer.status, answer.json()) == (200, {"whole": 1})
    assert server.connections == 1  # chunked and interim answers leave the connection usable
    await get(wire, server.url + "/until-close")
    assert server.connections == 2  # ... an answer ended by closing does not
    await wire.aclose()


async def test_a_head_answer_has_no_body_whatever_its_length_says(
    serve: Serve,
) -> None:
    server = await serve(lambda received: (reply(200, b"", ("Content-Length", "1234")), "keep"))
    wire = H1Wire(1)
    answer = await asyncio.wait_for(get(wire, server.url + "/x", method="HEAD"), 5)
    assert (answer.status, answer.content, answer.headers["content-length"]) == (200, b"", "1234")
    [received] = server.received
    assert received.line == b"HEAD /x HTTP/1.1"
    await wire.aclose()


@pytest.mark.parametrize(
    ("answer", "reused"),
    [
        (reply(200, b"{}", ("Connection", "close")), False),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}", False),
        (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n{}", True),
        (reply(200, b"{}"), True),
    ],
)
async def test_connections_are_reused_only_when_the_server_keeps_them(
    serve: Serve, answer: bytes, reused: bool
) -> None:
    server = await serve(lambda received: (answer, "keep"))
    wire = H1Wire(4)
    for _ in range(3):
        assert (await get(wire, server.url + "/x")).content == b"{}"
    assert server.connections == (1 if reused else 3)
    await wire.aclose()


async def test_an_answer_read_in_pieces_is_whole_and_the_read_timeout_is_between_reads(
    serve: Serve,
) -> None:
    whole = reply(200, b'{"id": "cus_1", "name": "pieces"}', JSON)
    pieces = [whole[i : i + 9] for i in range(0, len(whole), 9)]
    server = await serve(lambda r: (pieces, "keep"), pause=0.05)
    wire = H1Wire(1)
    # ~0.4 s in all, never more than 0.05 s between reads
    answer = await get(wire, server.url + "/x", read=0.3)
    assert answer.json() == {"id": "cus_1", "name": "pieces"}
    await wire.aclose()


# -- keep-alive and the pool -----------------------------------------------------------------


async def test_a_get_meeting_a_connection_the_server_closed_is_sent_once_more(
    serve: Serve,
) -> None:
    """The server answers the first request on each connection, then hangs up on the next
    without answering (as a server does that closes an idle connection just as it is reused)."""
    served: dict[int, int] = {}

    def respond(received: Received) -> tuple[bytes, Then]:
        count = served[server.connections] = served.get(server.connections, 0) + 1
        return (OK, "keep") if count == 1 else (b"", "close")

    server = await serve(respond)
    wire = H1Wire(1)
    await get(wire, server.url + "/x")
    assert (await get(wire, server.url + "/x")).json() == {"ok": True}
    assert (server.connections, len(server.received)) == (2, 3)
    # A write is not sent twice here (the server may have acted on it): whether it may go
    # again is ProviderHTTP's retry policy (idempotency keys), not the wire's.
    failure = await failure_of(wire.send("POST", server.url + "/x", {}, b"a=1", TIMEOUTS))
    assert (failure.kind, str(failure)) == (
        ErrorKind.UNAVAILABLE,
        "connection failed (ServerDisconnected)",
    )
    assert (server.connections, len(server.received)) == (2, 4)
    await wire.aclose()


async def test_the_pool_holds_max_connections_and_times_out_waiting(
    serve: Serve,
) -> None:
    def respond(received: Received) -> tuple[bytes, Then]:
        return (b"", "stall") if b"/stall" in received.line else (OK, "keep")

    server = await serve(respond)
    wire = H1Wire(1)
    stalled = asyncio.create_task(get(wire, server.url + "/stall"))
    await asyncio.sleep(0.1)
    failure = await failure_of(get(wire, server.url + "/x", pool=0.2))
    assert (failure.kind, str(failure)) == (ErrorKind.TIMEOUT, "PoolTimeout")
    waiting = asyncio.create_task(get(wire, server.url + "/x"))
    await asyncio.sleep(0.1)
    stalled.cancel()  # frees the slot: the waiting call gets it
    assert (await asyncio.wait_for(waiting, 5)).json() == {"ok": True}
    assert server.connections == 2 and server.hangups == 0
    await wire.aclose()


async def test_a_cancelled_call_closes_its_connection(serve: Serve) -> None:
    server = await serve(lambda received: (b"", "stall"))
    wire = H1Wire(1)
    call = asyncio.create_task(get(wire, server.url + "/stall"))
    await asyncio.sleep(0.1)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    [pool] = wire._pools.values()
    assert (pool.opened, pool.idle) == (0, [])
    await wire.aclose()


async def test_idle_connections_are_closed_after_the_keepalive(
    serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(h1_wire, "KEEPALIVE_SECONDS", 0.1)
    server = await serve(lambda received: (OK, "keep"))
    wire = H1Wire(2)
    await asyncio.gather(get(wire, server.url + "/a"), get(wire, server.url + "/b"))
    assert server.connections == 2
    await asyncio.sleep(0.4)
    assert server.hangups == 2  # both closed by the wire, no call needed
    await get(wire, server.url + "/c")
    assert server.connections == 3
    await wire.aclose()


async def test_bytes_nobody_asked_for_retire_the_connection(serve: Serve) -> None:
    stray = b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n"
    server = await serve(lambda received: (OK + stray, "keep"))
    wire = H1Wire(1)
    assert (await get(wire, server.url + "/x")).json() == {"ok": True}
    assert (await get(wire, server.url + "/x")).json() == {"ok": True}
    assert server.connections == 2
    await wire.aclose()


async def test_aclose_closes_idle_connections(serve: Serve) -> None:
    server = await serve(lambda received: (OK, "keep"))
    wire = H1Wire(1)
    await get(wire, server.url + "/x")
    await wire.aclose()
    await asyncio.sleep(0.1)
    assert server.hangups == 1


# -- refusals and failures -------------------------------------------------------------------


async def test_a_stall_after_the_head_is_a_read_timeout(serve: Serve) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{"
    server = await serve(lambda received: (head, "stall"))
    wire = H1Wire(1)
    failure = await failure_of(get(wire, server.url + "/x", read=0.2))
    assert (failure.kind, str(failure)) == (ErrorKind.TIMEOUT, "ReadTimeout")
    await wire.aclose()


@pytest.mark.parametrize(
    "headers",
    [
        {"Idempotency-Key": "k\r\nX-Evil: 1"},
        {"X-A": "one\ntwo"},
        {"X-B": "nul\0"},
        {"Content-Length ": "999"},  # not a token: would slip past the wire's own length
        {"X\x01": "a"},
        {"X-C": "a\x7fb"},
        {"X-D": "Jürgen"},  # non-ASCII, as httpx refuses it
    ],
)
async def test_a_header_that_would_break_its_line_is_never_sent(
    serve: Serve, headers: dict[str, str]
) -> None:
    server = await serve(lambda received: (OK, "keep"))
    wire = H1Wire(1)
    failure = await failure_of(wire.send("POST", server.url + "/x", headers, b"", TIMEOUTS))
    assert failure.kind is ErrorKind.BAD_REQUEST
    assert server.connections == 0
    await wire.aclose()


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/x", "http:///x", "http://host:port/x", "http://[::1/x"]
)
async def test_what_is_not_an_http_url_is_refused(url: str) -> None:
    wire = H1Wire(1)
    failure = await failure_of(get(wire, url))
    assert (failure.kind, str(failure)) == (ErrorKind.UNAVAILABLE, "UnsupportedProtocol")


@pytest.mark.parametrize("host", ["no-such-host.invalid", "a..b"])  # a..b: IDNA refuses it
async def test_an_unknown_or_unresolvable_host_is_unavailable(host: str) -> None:
    wire = H1Wire(1)
    failure = await failure_of(get(wire, f"http://{host}/x"))
    assert failure.kind is ErrorKind.UNAVAILABLE
    assert str(failure).startswith("connection failed (")


# -- TLS -------------------------------------------------------------------------------------


async def test_tls_answers_with_a_trusted_certificate_and_refuses_others(
    serve: Serve,
) -> None:
    authority = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_tls)
    server = await serve(lambda r: (OK, "keep"), tls=server_tls)
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    wire = H1Wire(1, tls=trusting)
    assert server.url.startswith("https://")
    assert (await get(wire, server.url + "/x")).json() == {"ok": True}
    assert (await get(wire, server.url + "/x")).json() == {"ok": True}
    assert server.connections == 1
    await wire.aclose()
    stranger = H1Wire(1)  # the default trust store has never heard of this CA
    failure = await failure_of(get(stranger, server.url + "/x"))
    assert (failure.kind, str(failure)) == (
        ErrorKind.UNAVAILABLE,
        "connection failed (SSLCertVerificationError)",
    )
    await stranger.aclose()


async def test_an_address_that_does_not_answer_costs_the_happy_eyeballs_delay(
    serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name resolving to an address that never answers (a full accept queue drops the SYN,
    as a family routed nowhere does) and then to the server's: the second is tried after 0.25 s
    instead of after the connect timeout."""
    server = await serve(lambda received: (OK, "keep"))
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(0)
    fillers = [socket.socket() for _ in range(3)]
    for filler in fillers:
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(silent.getsockname())
    loop = asyncio.get_running_loop()
    addresses = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", silent.getsockname()),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", server.port)),
    ]

    async def resolve(*args: object, **kwargs: object) -> list[tuple[object, ...]]:
        return addresses  # type: ignore[return-value]

    monkeypatch.setattr(loop, "getaddrinfo", resolve)
    wire = H1Wire(1)
    started = loop.time()
    try:
        answer = await get(wire, f"http://provider.test:{server.port}/x", connect=5.0)
    finally:
        await wire.aclose()
        for filler in fillers:
            filler.close()
        silent.close()
    assert answer.json() == {"ok": True}
    assert 0.2 <= loop.time() - started < 2.0
    assert server.received[0].values("host") == [f"provider.test:{server.port}"]
