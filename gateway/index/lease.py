"""The sync lease: at most one process per identity index runs the background sync.

Every gateway process sharing an index (``serve --workers N`` on one SQLite file, N replicas on
one PostgreSQL database) would otherwise list and poll the providers N times. The lease is held
with what the index already runs on, so nothing else has to be deployed, and it dies with its
holder:

- PostgreSQL: a session-level advisory lock (:data:`SYNC_LOCK_KEY`) on a connection of its own,
  kept open while this process leads; the server drops the lock when the connection or the
  process goes away.
- A SQLite file: an exclusive ``flock`` on ``<database>.sync-lock`` beside it (POSIX: Linux and
  macOS), kept open while this process leads; the kernel drops it when the process exits.
- In-memory SQLite (and any index that is not a :class:`~gateway.index.SQLIndex`, such as a
  test double): one process by construction, which always leads.

:class:`gateway.sync.leader.SyncLeader` takes the lease, runs the sync while it holds it and
tries again periodically while another process holds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Final, Protocol, runtime_checkable

import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from gateway.index.engine import INDEX_ERRORS, is_memory, parse_url, safe_url

__all__ = [
    "LOCK_FILE_SUFFIX",
    "SYNC_LOCK_KEY",
    "FileLease",
    "Leasable",
    "LocalLease",
    "PostgresLease",
    "SyncLease",
    "index_lease",
    "lease_for",
]

SYNC_LOCK_KEY: Final = 0x6367775F73796E63
"""PostgreSQL advisory lock key held by the process that runs the sync ("cgw_sync"); the
index's other keys are ``cgw_migr`` (migrations) and ``cgw_idx1`` (writes)."""

LOCK_FILE_SUFFIX: Final = ".sync-lock"
"""Appended to a SQLite index's path for its lock file (``index.sqlite3.sync-lock``)."""


class SyncLease(Protocol):
    """Leadership of one index's sync. Calls come from one task at a time."""

    @property
    def where(self) -> str:
        """What the lease is, for log lines (no password)."""
        ...

    async def acquire(self) -> bool:
        """Take the lease if no other process holds it, without waiting; ``True`` when this
        process holds it now (already held: ``True``)."""
        ...

    async def held(self) -> bool:
        """Whether this process still holds the lease (a lost database connection loses it)."""
        ...

    async def release(self) -> None:
        """Hand the lease back (nothing when not held)."""
        ...


@runtime_checkable
class Leasable(Protocol):
    """An index that knows which lease guards its sync (:class:`~gateway.index.SQLIndex`)."""

    def sync_lease(self) -> SyncLease: ...


class LocalLease:
    """An index only this process can see (in-memory): always held."""

    where = "in-memory index (one process)"

    async def acquire(self) -> bool:
        return True

    async def held(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class FileLease:
    """An exclusive, non-blocking ``flock`` on ``path``, held while its descriptor is open.

    The lock file holds the leader's pid, for an operator wondering which process syncs.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def where(self) -> str:
        return f"lock file {self.path}"

    async def acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        with contextlib.suppress(OSError):  # the pid is a courtesy, the lock is what counts
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return True

    async def held(self) -> bool:
        return self._fd is not None

    async def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the flock


class PostgresLease:
    """``pg_try_advisory_lock(SYNC_LOCK_KEY)`` on a connection of its own (no pool: releasing
    closes it), outside any transaction while held, so no idle-transaction timeout ends it."""

    def __init__(self, url: URL) -> None:
        self._url = url
        self._engine: AsyncEngine | None = None
        self._conn: AsyncConnection | None = None

    @property
    def where(self) -> str:
        return f"advisory lock {SYNC_LOCK_KEY:#x} on {safe_url(self._url)}"

    async def acquire(self) -> bool:
        if self._conn is not None:
            return True
        if self._engine is None:
            self._engine = create_async_engine(self._url, poolclass=NullPool)
        conn = await self._engine.connect()
        try:
            got = await conn.scalar(sa.select(sa.func.pg_try_advisory_lock(SYNC_LOCK_KEY)))
            await conn.commit()  # a session lock outlives the transaction
        except BaseException:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._conn = conn
        return True

    async def held(self) -> bool:
        if self._conn is None:
            return False
        try:
            await self._conn.scalar(sa.select(1))
            await self._conn.commit()
        except INDEX_ERRORS:
            await self._drop()
            return False
        return True

    async def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(*INDEX_ERRORS):  # a closed connection has let go already
                await self._conn.scalar(sa.select(sa.func.pg_advisory_unlock(SYNC_LOCK_KEY)))
                await self._conn.commit()
        await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(*INDEX_ERRORS):
                await conn.close()
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.dispose()


def lease_for(url: str | URL) -> SyncLease:
    """The lease guarding the sync of the index at ``url``."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "postgresql":
        return PostgresLease(parsed)
    if is_memory(parsed):
        return LocalLease()
    database = Path(str(parsed.database)).expanduser()
    return FileLease(database.with_name(database.name + LOCK_FILE_SUFFIX))


def index_lease(index: object) -> SyncLease:
    """The lease of ``index`` (a :class:`Leasable`), else a :class:`LocalLease`."""
    return index.sync_lease() if isinstance(index, Leasable) else LocalLease()
