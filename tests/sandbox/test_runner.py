"""Loopback serving: in the running loop (LoopbackServer) and in a thread (ThreadedServer)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.sandbox.runner import LoopbackServer, ThreadedServer, bind_socket, threaded


async def hello(request: Request) -> Response:
    return JSONResponse({"hello": request.url.port})


def make_app() -> Starlette:
    return Starlette(routes=[Route("/hello", hello)])


def refuses_connections(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) != 0


async def test_loopback_server_in_the_running_loop() -> None:
    server = LoopbackServer(make_app())
    assert server.port != 0 and server.url == f"http://127.0.0.1:{server.port}"
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            response = await client.get("/hello")
        assert response.json() == {"hello": server.port}
    finally:
        await server.stop()
    assert server.sock.fileno() == -1
    assert refuses_connections(server.host, server.port)
    await server.stop()  # a second stop is harmless


async def test_loopback_server_as_async_context_manager() -> None:
    async with LoopbackServer(make_app()) as server, httpx.AsyncClient() as client:
        assert (await client.get(f"{server.url}/hello")).status_code == 200
    assert server.sock.fileno() == -1
    assert refuses_connections(server.host, server.port)


async def test_stop_before_start_closes_the_socket() -> None:
    server = LoopbackServer(make_app())
    await server.stop()
    assert server.sock.fileno() == -1


async def test_a_failing_startup_raises_and_closes_the_socket() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        raise RuntimeError("startup failed")
        yield  # pragma: no cover

    server = LoopbackServer(Starlette(lifespan=lifespan))
    with pytest.raises(RuntimeError):
        await server.start()
    assert server.sock.fileno() == -1


def test_threaded_server_context_manager() -> None:
    with ThreadedServer(make_app()) as server:
        assert server.port != 0
        response = httpx.get(f"{server.url}/hello")
        assert response.json() == {"hello": server.port}
    assert server.sock.fileno() == -1
    assert not server._thread.is_alive()
    assert refuses_connections(server.host, server.port)


def test_threaded_helper_yields_a_working_url() -> None:
    with threaded(make_app()) as url:
        assert httpx.get(f"{url}/hello").status_code == 200
    port = int(url.rsplit(":", 1)[1])
    assert refuses_connections("127.0.0.1", port)


def test_threaded_server_startup_failure_cleans_up() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        raise RuntimeError("startup failed")
        yield  # pragma: no cover

    server = ThreadedServer(Starlette(lifespan=lifespan))
    with pytest.raises(RuntimeError, match="did not start"):
        server.__enter__()
    assert server.sock.fileno() == -1
    assert not server._thread.is_alive()


def test_bind_socket_resolves_port_zero_and_refuses_a_taken_port() -> None:
    sock = bind_socket("127.0.0.1", 0)
    try:
        host, port = sock.getsockname()[:2]
        assert host == "127.0.0.1" and port > 0
        with pytest.raises(OSError):
            bind_socket("127.0.0.1", port)
    finally:
        sock.close()


def _ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")
async def test_ipv6_loopback_url_is_bracketed() -> None:
    async with LoopbackServer(make_app(), host="::1") as server:
        assert server.url == f"http://[::1]:{server.port}"
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{server.url}/hello")).status_code == 200
