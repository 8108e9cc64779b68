"""Serving ASGI apps on loopback: in the running event loop, or in a background thread for tests."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any, cast

import uvicorn
from starlette.types import ASGIApp

START_TIMEOUT = 10.0
"""Seconds a server may take to start before it is given up on."""
SIMULATOR_DRAIN = 1.0
"""Seconds a stopping simulator (or test server) lets requests in flight finish."""


def _config(app: ASGIApp, host: str, port: int, drain: float) -> uvicorn.Config:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        # No uvicorn logging config of its own: its records reach the root logger, formatted
        # like the gateway's (JSON with the request id under `serve`, see gateway/logs.py).
        log_config=None,
        access_log=False,
        lifespan="auto",
        loop="asyncio",
    )
    set_drain(config, drain)
    return config


def set_drain(config: uvicorn.Config, seconds: float) -> None:
    """On shutdown uvicorn stops accepting, lets requests in flight run this long, then
    cancels them (the gateway answers those 503 ``SHUTTING_DOWN``)."""
    # uvicorn annotates whole seconds, but any number works (it goes to asyncio.wait_for).
    config.timeout_graceful_shutdown = cast(int, seconds)


def bind_socket(
    host: str, port: int, *, reuse_port: bool = False, listen: bool = True
) -> socket.socket:
    """A listening socket bound up front, so port 0 resolves before the server starts.

    ``host`` may be an IPv4 or IPv6 address or a name; the socket is closed if binding fails.
    With ``reuse_port`` other sockets of this user may bind the same address (``SO_REUSEPORT``);
    without ``listen`` the socket only holds the address.
    """
    family, _, _, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    return bind_address(family, address, reuse_port=reuse_port, listen=listen)


def bind_address(
    family: socket.AddressFamily,
    address: tuple[Any, ...],
    *,
    reuse_port: bool = False,
    listen: bool = True,
) -> socket.socket:
    """:func:`bind_socket` on an address already resolved (a socket's ``getsockname()``)."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        if listen:
            sock.listen(128)
        sock.set_inheritable(True)
    except OSError as exc:
        sock.close()
        # The bare "[Errno 98] Address already in use" names no address.
        where = server_url(*address[:2]).removeprefix("http://")
        raise OSError(exc.errno, f"cannot listen on {where}: {exc.strerror}") from exc
    except BaseException:
        sock.close()
        raise
    return sock


def server_url(host: str, port: int) -> str:
    """``http://host:port``, with an IPv6 address in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class LoopbackServer:
    """One uvicorn server for ``app`` inside the current event loop.

    ``await start()`` returns once the server accepts connections; ``await stop()`` stops
    accepting, lets requests in flight run up to ``drain`` seconds, and closes the socket on
    every path. Also usable as ``async with``.
    """

    def __init__(
        self,
        app: ASGIApp,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        drain: float = SIMULATOR_DRAIN,
    ) -> None:
        self.sock = bind_socket(host, port)
        self.host, self.port = self.sock.getsockname()[:2]
        self.server = uvicorn.Server(_config(app, self.host, self.port, drain))
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return server_url(self.host, self.port)

    async def _serve(self) -> None:
        try:
            await self.server.serve(sockets=[self.sock])
        except SystemExit as exc:
            # uvicorn exits the process when the app's startup fails; here that is an error.
            raise RuntimeError(f"server on {self.url} failed to start (exit {exc.code})") from None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._serve())
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while not self.server.started:
                if self._task.done():
                    await self._task
                    raise RuntimeError(f"server on {self.url} stopped while starting")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server on {self.url} did not start")
                await asyncio.sleep(0.01)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop serving (after the drain) and close the socket; safe to call twice or before
        :meth:`start`."""
        self.server.should_exit = True
        try:
            if self._task is not None and not self._task.done():
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            elif self._task is not None and not self._task.cancelled():
                self._task.exception()  # already surfaced by start(); mark it retrieved
        finally:
            self.sock.close()

    async def __aenter__(self) -> LoopbackServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class ThreadedServer:
    """uvicorn in a daemon thread, for synchronous clients such as the official SDKs."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sock = bind_socket(host, port)
        self.host, self.port = self.sock.getsockname()[:2]
        self.server = uvicorn.Server(_config(app, self.host, self.port, SIMULATOR_DRAIN))
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._exit_code: object = None

    def _run(self) -> None:
        try:
            asyncio.run(self.server.serve(sockets=[self.sock]))
        except SystemExit as exc:  # uvicorn exits when the app's startup fails
            self._exit_code = exc.code

    @property
    def url(self) -> str:
        return server_url(self.host, self.port)

    def __enter__(self) -> ThreadedServer:
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                detail = "" if self._exit_code is None else f" (exit {self._exit_code})"
                raise RuntimeError(f"server on {self.url} did not start{detail}")
            time.sleep(0.01)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.should_exit = True
        try:
            if self._thread.is_alive():
                self._thread.join(timeout=START_TIMEOUT)
        finally:
            self.sock.close()


@contextlib.contextmanager
def threaded(app: ASGIApp) -> Iterator[str]:
    """Serve ``app`` on a free loopback port for the duration of the block; yields its URL."""
    with ThreadedServer(app) as server:
        yield server.url
