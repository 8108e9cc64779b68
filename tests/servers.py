"""Real servers the tests run against, from Debian's binaries (``.ci/run`` installs them),
each in its own temp directory on a free 127.0.0.1 port, always stopped.

PostgreSQL: a throw-away cluster for the session (initdb as an unprivileged user when root).
Redis: ``redis-server`` without persistence; it can be stopped and started again on its port
(the tests that take Redis away mid-run).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "PostgresServer",
    "RedisServer",
    "ServerUnavailable",
    "free_port",
    "postgres_binaries",
    "redis_server_binary",
    "reset_postgres",
    "start_redis",
    "stop_redis",
]

POSTGRES_USER = "postgres"
"""The OS user initdb and the server run as when the tests run as root (initdb refuses root)."""


class ServerUnavailable(RuntimeError):
    """The server cannot run here; the message says why (a test skips, or fails in CI, on it)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def postgres_binaries() -> Path:
    """The directory holding ``initdb`` and ``pg_ctl``: on the PATH, else Debian's
    ``/usr/lib/postgresql/<version>/bin`` (newest version)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if not candidates:
        raise ServerUnavailable(
            "PostgreSQL binaries not found (initdb); install Debian's postgresql package"
        )
    return Path(candidates[-1]).parent


def _as_server_user(command: Sequence[str]) -> list[str]:
    if os.geteuid() != 0:
        return list(command)
    if shutil.which("runuser") is None:
        raise ServerUnavailable("running as root, and runuser is missing to drop to postgres")
    return ["runuser", "-u", POSTGRES_USER, "--", *command]


@dataclass
class PostgresServer:
    """A throw-away PostgreSQL cluster: trust authentication on 127.0.0.1 only, in a fresh
    directory of the system temp dir (pytest's temp dirs are private to root, so the server's
    user could not reach them), removed by :meth:`stop`."""

    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cgw-pg-")))
    port: int = 0
    bin: Path | None = None

    @property
    def url(self) -> str:
        """A SQLAlchemy URL for the ``postgres`` database (asyncpg driver)."""
        return f"postgresql+asyncpg://{POSTGRES_USER}@127.0.0.1:{self.port}/postgres"

    def url_with_password(self, password: str) -> str:
        """The same database with a password in the URL (trust authentication ignores it)."""
        return f"postgresql+asyncpg://{POSTGRES_USER}:{password}@127.0.0.1:{self.port}/postgres"

    @property
    def _data(self) -> Path:
        return self.directory / "data"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    def start(self) -> PostgresServer:
        self.bin = postgres_binaries()
        self.port = free_port()
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.directory, POSTGRES_USER, POSTGRES_USER)
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self._data),
            "-U",
            POSTGRES_USER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self._data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        return self

    def stop(self) -> None:
        """Stop the server (if it started) and remove its directory."""
        try:
            if self.bin is not None and (self._data / "postmaster.pid").exists():
                self._run(
                    str(self.bin / "pg_ctl"), "-D", str(self._data), "-m", "immediate", "stop"
                )
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def _run(self, *command: str) -> None:
        result = subprocess.run(
            _as_server_user(command),
            capture_output=True,
            text=True,
            check=False,
            cwd=self.directory,
        )
        if result.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise ServerUnavailable(
                f"{Path(command[0]).name} failed ({result.returncode}): "
                f"{result.stderr.strip() or result.stdout.strip()}\n{log}"
            )


# -- Redis ----------------------------------------------------------------------------------------

REDIS_SERVER = "redis-server"
START_WITHIN = 10.0
"""Seconds a server may take to answer after starting."""


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


async def reset_postgres(url: str) -> None:
    """An empty ``public`` schema: each test starts from a database with nothing in it."""
    from sqlalchemy import text

    from gateway.index.engine import make_engine

    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()
