"""A raw HTTP/1.1 server for the wire tests: raw asyncio, so it sees each request exactly as
sent and can misbehave at will (stall, hang up, answer in pieces, answer unasked)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["JSON", "RawServer", "Received", "Respond", "Then", "reply"]

Then = Literal["keep", "close", "stall"]
"""After answering: keep the connection, close it, or wait until the server stops."""
Respond = Callable[["Received"], tuple[bytes | Sequence[bytes], Then]]
"""What the server answers a request with (several pieces are written ``pause`` apart)."""


@dataclass
class Received:
    """One request as the server read it off the socket."""

    head: bytes
    body: bytes

    @property
    def line(self) -> bytes:
        return self.head.split(b"\r\n", 1)[0]

    @property
    def headers(self) -> list[tuple[str, str]]:
        """Every header line, name lower-cased, in the order sent."""
        lines = self.head.decode("latin-1").split("\r\n")[1:]
        pairs = [line.split(":", 1) for line in lines if line]
        return [(name.strip().lower(), value.strip()) for name, value in pairs]

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]


def reply(status: int, body: bytes = b"", *headers: tuple[str, str]) -> bytes:
    """An HTTP/1.1 answer with a ``Content-Length``, unless one is among ``headers``."""
    lines = [f"HTTP/1.1 {status} Whatever"]
    lines += [f"{name}: {value}" for name, value in headers]
    if not any(name.lower() == "content-length" for name, _ in headers) and status != 204:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


JSON = ("Content-Type", "application/json")


@dataclass
class RawServer:
    """HTTP/1.1 on a free 127.0.0.1 port, in this test's loop: records each request's bytes and
    counts connections; a stalled answer waits until the server stops."""

    respond: Respond
    pause: float = 0.0
    """Seconds between the pieces of an answer given as several."""
    tls: ssl.SSLContext | None = None
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    hangups: int = 0
    """Connections the client closed while the server waited for a request."""
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port: int = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self._server.close()
        self._stopping.set()
        for writer in list(self._writers):
            writer.close()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        self._handlers.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    self.hangups += 1
                    return
                received = Received(head, b"")
                length = int(dict(received.headers).get("content-length", "0"))
                received.body = await reader.readexactly(length)
                self.received.append(received)
                data, then = self.respond(received)
                for number, piece in enumerate([data] if isinstance(data, bytes) else data):
                    if number and self.pause:
                        await asyncio.sleep(self.pause)
                    writer.write(piece)
                    await writer.drain()
                if then == "stall":
                    await self._stopping.wait()
                if then != "keep":
                    return
        finally:
            self._writers.discard(writer)
            writer.close()
