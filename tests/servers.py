"""Real servers the tests run against, started on free loopback ports and always stopped.

Redis: Debian's ``redis-server`` (``.ci/run`` installs it), in a temporary directory, with no
persistence. Each helper is self-contained (start, wait until it answers, stop).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REDIS_SERVER = "redis-server"
START_WITHIN = 10.0
"""Seconds a server may take to answer after starting."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def redis_server_binary() -> str | None:
    """The ``redis-server`` on PATH (or Debian's /usr/bin one), or ``None``."""
    return shutil.which(REDIS_SERVER) or shutil.which(f"/usr/bin/{REDIS_SERVER}")


@dataclass
class RedisServer:
    """One ``redis-server`` process; :meth:`stop` ends it (and :meth:`start` again, on the
    same port, brings it back: the tests that take Redis away mid-run use both)."""

    binary: str
    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_WITHIN
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


def start_redis(binary: str) -> RedisServer:
    """A fresh ``redis-server`` on a free port in a temporary directory of its own."""
    server = RedisServer(binary, free_port(), Path(tempfile.mkdtemp(prefix="cg-redis-")))
    server.start()
    return server


def stop_redis(server: RedisServer) -> None:
    server.stop()
    shutil.rmtree(server.directory, ignore_errors=True)
