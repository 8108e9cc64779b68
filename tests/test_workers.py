"""The pieces of ``serve --workers`` that need no worker process: each worker's own listener,
and the parent's wait for the first one (the processes themselves: test_serve_lifecycle.py)."""

from __future__ import annotations

import asyncio
import pickle
import socket

import pytest
from uvicorn.config import STARTUP_FAILURE

from gateway.sandbox.runner import bind_socket
from gateway.workers import OwnListener, until_accepting


def test_a_worker_unpickles_its_own_listening_socket_on_the_held_address() -> None:
    held = bind_socket("127.0.0.1", 0, reuse_port=True, listen=False)
    address = held.getsockname()
    listener = OwnListener(held.family, address)
    first, second = (pickle.loads(pickle.dumps(listener)) for _ in range(2))
    try:
        for sock in (first, second):
            assert isinstance(sock, socket.socket)
            assert sock.getsockname() == address
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
        # The parent's socket only holds the address.
        assert held.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 0
        with socket.create_connection(address, timeout=5):
            pass
    finally:
        for sock in (held, first, second):
            sock.close()


def test_a_worker_that_cannot_listen_exits_as_a_start_up_failure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    taken = bind_socket("127.0.0.1", 0)  # no SO_REUSEPORT: nobody else may bind it
    try:
        listener = OwnListener(taken.family, taken.getsockname())
        with pytest.raises(SystemExit) as exited:
            pickle.loads(pickle.dumps(listener))
    finally:
        taken.close()

    assert exited.value.code == STARTUP_FAILURE
    assert "cannot listen on 127.0.0.1:" in capsys.readouterr().err


async def test_the_parent_waits_for_a_worker_to_accept_or_for_the_supervisor_to_stop() -> None:
    held = bind_socket("127.0.0.1", 0, reuse_port=True, listen=False)
    address = held.getsockname()
    supervisor: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    waiting = asyncio.ensure_future(until_accepting(address, supervisor))
    await asyncio.sleep(0.1)
    assert not waiting.done()  # the held address refuses connections

    worker = pickle.loads(pickle.dumps(OwnListener(held.family, address)))
    try:
        assert await asyncio.wait_for(waiting, 5) is True
    finally:
        worker.close()

    supervisor.set_result(None)
    assert await until_accepting(address, supervisor) is False
    held.close()
