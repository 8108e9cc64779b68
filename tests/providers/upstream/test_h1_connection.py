"""The connection's answer assembly, in process (no sockets): however the bytes arrive, the
same answer; and the body decodings the wire asks providers for."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import zlib

from hypothesis import given
from hypothesis import strategies as st

from gateway.providers.upstream.h1_connection import H1Connection, decoded_content
from gateway.providers.upstream.wire import Answer, WireFailure

BODY = b'{"id": "cus_1", "name": "J\xc3\xbcrgen", "tags": ["a", "b"]}'
ANSWERS = {
    "length": (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(BODY)).encode()
        + b"\r\nX-Request-Id: r1\r\n\r\n"
        + BODY
    ),
    "chunked": (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: r1\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
        + b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (BODY[:7], BODY[7:]))
        + b"0\r\n\r\n"
    ),
    "gzip": (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
        b"X-Request-Id: r1\r\nContent-Length: "
        + str(len(gzip.compress(BODY))).encode()
        + b"\r\n\r\n"
        + gzip.compress(BODY)
    ),
}


class FakeTransport:
    """Just enough of a transport: records what is written and whether it was closed."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def close(self) -> None:
        self.closed = True


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


async def connected() -> tuple[H1Connection, FakeTransport, asyncio.Future[Answer]]:
    """A connection on a fake transport with one request written, its answer pending."""
    connection = H1Connection(asyncio.get_running_loop())
    transport = FakeTransport()
    connection.connection_made(transport)  # type: ignore[arg-type]
    return connection, transport, connection.exchange(b"GET / HTTP/1.1\r\n\r\n", 5.0)


async def answer_from(pieces: list[bytes]) -> tuple[Answer, H1Connection, FakeTransport]:
    connection, transport, pending = await connected()
    for piece in pieces:
        connection.data_received(piece)
    assert pending.done()
    return pending.result(), connection, transport


@given(kind=st.sampled_from(sorted(ANSWERS)), cuts=st.lists(st.integers(0, 400), max_size=12))
async def test_an_answer_split_anywhere_reads_the_same(kind: str, cuts: list[int]) -> None:
    answer, connection, transport = await answer_from(split_at(ANSWERS[kind], cuts))
    assert (answer.status, answer.content, answer.headers["x-request-id"]) == (200, BODY, "r1")
    assert connection.reusable and not transport.closed
    assert transport.written == [b"GET / HTTP/1.1\r\n\r\n"]


async def test_a_second_exchange_on_the_connection_starts_clean() -> None:
    _, connection, _ = await answer_from([ANSWERS["length"]])
    pending = connection.exchange(b"GET /again HTTP/1.1\r\n\r\n", 5.0)
    connection.data_received(b"HTTP/1.1 204 No Content\r\nX-Second: 1\r\n\r\n")
    second = pending.result()
    assert (second.status, second.content, list(second.headers)) == (204, b"", ["X-Second"])


async def test_a_garbled_answer_fails_and_closes() -> None:
    connection, transport, pending = await connected()
    connection.data_received(b"HTTZ/1.1 two hundred\r\n\r\n")
    failure = pending.exception()
    assert isinstance(failure, WireFailure) and str(failure) == "RemoteProtocolError"
    assert transport.closed and not connection.reusable


async def test_a_hang_up_before_and_during_an_answer() -> None:
    for received, reason in [
        (b"", "connection failed (ServerDisconnected)"),
        (b"HTTP/1.1 2", "ReadError"),
    ]:
        connection, _, pending = await connected()
        if received:
            connection.data_received(received)
        connection.connection_lost(None)
        assert str(pending.exception()) == reason
        assert connection.received == len(received)


def test_gzip_and_both_deflates_decode_and_other_codings_pass_through() -> None:
    assert decoded_content(gzip.compress(BODY), "gzip") == BODY
    assert decoded_content(gzip.compress(BODY), "x-gzip") == BODY
    assert decoded_content(zlib.compress(BODY), "deflate") == BODY
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    assert decoded_content(raw.compress(BODY) + raw.flush(), "deflate") == BODY
    assert decoded_content(gzip.compress(zlib.compress(BODY)), "deflate, gzip") == BODY
    assert decoded_content(BODY, "identity") == BODY
    assert decoded_content(b"brotli bytes", "br") == b"brotli bytes"


def test_what_does_not_decode_is_none() -> None:
    assert decoded_content(b"not gzip at all", "gzip") is None
    assert decoded_content(gzip.compress(BODY)[:-12], "gzip") is None  # cut short


async def test_an_exchange_on_a_connection_the_server_closed_fails_at_once() -> None:
    connection = H1Connection(asyncio.get_running_loop())
    transport = FakeTransport()
    connection.connection_made(transport)  # type: ignore[arg-type]
    connection.connection_lost(None)
    pending = connection.exchange(b"GET / HTTP/1.1\r\n\r\n", 5.0)
    assert str(pending.exception()) == "connection failed (ServerDisconnected)"
    assert transport.written == []


async def test_a_head_that_never_ends_is_refused() -> None:
    connection, transport, pending = await connected()
    connection.data_received(b"HTTP/1.1 200 OK\r\n")
    for _ in range(100):
        connection.data_received(b"X-Padding: " + b"x" * 1000 + b"\r\n")
        if pending.done():
            break
    assert str(pending.exception()) == "RemoteProtocolError (answer head over 64 KiB)"
    assert transport.closed


async def test_a_large_answer_in_one_read_is_not_mistaken_for_a_large_head() -> None:
    body = b"x" * 200_000
    answer, _, _ = await answer_from(
        [b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body]
    )
    assert answer.content == body


async def test_a_large_head_in_one_read_is_refused_too() -> None:
    connection, transport, pending = await connected()
    padding = b"".join(b"X-Padding-%d: %s\r\n" % (n, b"x" * 1000) for n in range(70))
    connection.data_received(b"HTTP/1.1 200 OK\r\n" + padding + b"Content-Length: 0\r\n\r\n")
    assert str(pending.exception()) == "RemoteProtocolError (answer head over 64 KiB)"
    assert transport.closed


async def test_an_empty_body_is_not_decoded_whatever_its_encoding_says() -> None:
    answer, _, _ = await answer_from([b"HTTP/1.1 204 No Content\r\nContent-Encoding: gzip\r\n\r\n"])
    assert (answer.status, answer.content) == (204, b"")
    empty = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 0\r\n\r\n"
    assert (await answer_from([empty]))[0].content == b""


async def test_trailers_are_not_the_answers_headers() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Kept:  spaced  \r\n\r\n"
        b"2\r\n{}\r\n0\r\nContent-Encoding: gzip\r\nX-Trailer: 1\r\n\r\n"
    )
    answer, connection, _ = await answer_from([chunked])
    assert answer.content == b"{}" and "x-trailer" not in answer.headers
    assert answer.headers["x-kept"] == "spaced"  # surrounding whitespace is not the value
    assert connection.reusable


async def test_a_close_delimited_body_ends_only_with_a_clean_close() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n"
    for lost, expected in [(None, b'{"items": [1, 2, 3]}'), (ConnectionResetError(), None)]:
        connection, _, pending = await connected()
        connection.data_received(head + b'{"items": [1, 2, 3]}')
        connection.connection_lost(lost)
        if expected is None:
            assert str(pending.exception()) == "ReadError"  # reset: maybe cut short
        else:
            assert pending.result().content == expected


async def test_a_status_below_100_is_garbled() -> None:
    connection, transport, pending = await connected()
    connection.data_received(b"HTTP/1.1 000 Nothing\r\nContent-Length: 0\r\n\r\n")
    assert str(pending.exception()) == "RemoteProtocolError"
    assert transport.closed
