"""Where the index lives and how to connect to it, with its password kept out of every message.

The URL is a SQLAlchemy URL: ``sqlite+aiosqlite:///path`` (the embedded default, a file under
the data directory), ``sqlite+aiosqlite:///:memory:`` (tests) or
``postgresql+asyncpg://user:password@host/db``. Plain ``sqlite:`` and ``postgresql:`` are
taken to mean those drivers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from gateway.config import Settings

__all__ = [
    "INDEX_ERRORS",
    "INDEX_FILE",
    "MEMORY_URL",
    "READ_BUSY_TIMEOUT_MS",
    "FileReader",
    "IndexUnavailable",
    "data_dir",
    "file_reader",
    "index_url",
    "is_memory",
    "make_engine",
    "parse_url",
    "running_index_url",
    "safe_url",
    "scrub",
]

INDEX_FILE: Final = "index.sqlite3"
_DRIVERS: Final = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_SUPPORTED: Final = frozenset(_DRIVERS.values())


class IndexUnavailable(RuntimeError):
    """The index could not be opened or migrated; the message names it without its password."""


INDEX_ERRORS: Final[tuple[type[Exception], ...]] = (SQLAlchemyError, IndexUnavailable, OSError)
"""What a failing index raises (database down, file locked, disk full): reads catch these and
answer live instead."""


def data_dir(settings: Settings, env: Mapping[str, str] | None = None) -> Path:
    """``data_dir`` when set, else ``$XDG_DATA_HOME/customer-gateway``, else
    ``~/.local/share/customer-gateway``."""
    if settings.data_dir:
        return Path(settings.data_dir).expanduser()
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "customer-gateway"


MEMORY_URL: Final = "sqlite+aiosqlite:///:memory:"


def index_url(settings: Settings, env: Mapping[str, str] | None = None) -> str:
    """``index_url`` when set, else the SQLite file ``index.sqlite3`` under :func:`data_dir`."""
    if settings.index_url:
        return settings.index_url
    return f"sqlite+aiosqlite:///{data_dir(settings, env) / INDEX_FILE}"


def running_index_url(settings: Settings, env: Mapping[str, str] | None = None) -> str:
    """The index a running gateway (or sync) uses: :func:`index_url`, except on the sandbox
    with none configured, an in-memory one. The sandbox's data is generated afresh each run, so
    an index kept from an earlier run would describe customers that no longer exist (and the
    sandbox must not fill the index a live configuration uses)."""
    if settings.sandbox and not settings.index_url:
        return MEMORY_URL
    return index_url(settings, env)


def parse_url(url: str | URL) -> URL:
    """The URL with its async driver; :class:`IndexUnavailable` for anything else."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise IndexUnavailable("the identity index URL is not a SQLAlchemy URL") from None
    parsed = parsed.set(drivername=_DRIVERS.get(parsed.drivername, parsed.drivername))
    if parsed.drivername not in _SUPPORTED:
        raise IndexUnavailable(
            f"the identity index supports {', '.join(sorted(_SUPPORTED))}, not {parsed.drivername}"
        )
    return parsed


def safe_url(url: str | URL) -> str:
    """The URL as it may be shown: the password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<not a URL>"


def scrub(text: str, url: str | URL) -> str:
    """``text`` with the URL's password (and the URL itself) masked, for error messages built
    from a driver's exception."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return text
    if parsed.password:
        text = text.replace(parsed.render_as_string(hide_password=False), safe_url(parsed))
        text = text.replace(str(parsed.password), "***")
    return text


def is_memory(url: URL) -> bool:
    """Whether ``url`` is an in-memory SQLite database (one per connection, one process)."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def make_engine(url: str | URL) -> AsyncEngine:
    """An async engine for the index. In-memory SQLite keeps one connection (each new one
    would be an empty database); a SQLite file's directory is created."""
    parsed = parse_url(url)
    options: dict[str, Any] = {}
    if is_memory(parsed):
        options = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    elif parsed.get_backend_name() == "sqlite" and parsed.database:
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(parsed, **options)
    if parsed.get_backend_name() == "sqlite":
        sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


@dataclass(frozen=True, slots=True)
class FileReader:
    """A SQLite file's blocking read side: a plain engine, used on the event loop's thread."""

    engine: sa.Engine

    def close(self) -> None:
        self.engine.dispose()


READ_BUSY_TIMEOUT_MS: Final = 100
"""How long a read waits for a file another process has locked before failing (and the read
being answered live), rather than the 10 s a writer waits: a read blocks the event loop."""


def file_reader(url: str | URL) -> FileReader | None:
    """Blocking reads for a SQLite file (``None`` for anything else): the stdlib driver, one
    plain connection, each read run whole on the event loop (gateway/index/store.py). Reader
    connections are query-only; the file is in WAL mode already (the writer set it)."""
    parsed = parse_url(url)
    if parsed.get_backend_name() != "sqlite" or is_memory(parsed):
        return None
    engine = sa.create_engine(
        parsed.set(drivername="sqlite"), pool_size=1, connect_args={"check_same_thread": False}
    )
    sa.event.listen(engine, "connect", _reader_pragmas)
    return FileReader(engine)


def _reader_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {READ_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA query_only = ON")
    finally:
        cursor.close()


_WAL_ATTEMPTS: Final = 100


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Wait for a busy file instead of failing at once, and let readers run beside a writer.

    Switching a new file to WAL needs it to itself, and SQLite answers "locked" at once (no
    busy wait) when another process opens it at the same moment: retried, briefly.
    """
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout = 10000")
        for attempt in range(_WAL_ATTEMPTS):
            try:
                cursor.execute("PRAGMA journal_mode = WAL")
                return
            except Exception as exc:  # the driver's OperationalError, wrapped by the adapter
                if "locked" not in str(exc) or attempt == _WAL_ATTEMPTS - 1:
                    raise
                time.sleep(0.02)
    finally:
        cursor.close()
