"""Schema migrations for the identity index: Alembic, run programmatically on an async engine.

:func:`upgrade` brings a database to the newest revision (idempotent: at head it does nothing)
and returns the revision it is at; ``open_index`` calls it on every start, and
``customer-gateway migrate`` runs it on its own.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.index.engine import IndexUnavailable, make_engine, safe_url, scrub

__all__ = ["MIGRATIONS", "alembic_config", "head_revision", "upgrade", "upgrade_to_head"]

logger = logging.getLogger("customer_gateway.identity")
# Alembic reports its dialect set-up at INFO on every start; one line of our own (below) says
# when the schema really changed.
logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)

MIGRATIONS: Final = Path(__file__).resolve().parent / "migrations"
_MIGRATION_LOCK: Final = 0x6367775F6D696772
"""PostgreSQL advisory lock key held while migrating ("cgw_migr")."""


def alembic_config(url: str | URL | None = None) -> Config:
    """Alembic's configuration pointing at the migrations shipped in the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        # Alembic interpolates "%" in options; a password may hold one.
        rendered = url if isinstance(url, str) else url.render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships its first revision
        raise IndexUnavailable("the identity index ships no migration")
    return head


def _upgrade(connection: Connection) -> str | None:
    before = MigrationContext.configure(connection).get_current_revision()
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    after = MigrationContext.configure(connection).get_current_revision()
    if after != before:
        logger.info("identity index schema migrated from %s to %s", before or "nothing", after)
    return after


async def upgrade(engine: AsyncEngine) -> str:
    """Migrate the engine's database to head; the revision it is at afterwards."""
    try:
        async with engine.begin() as connection:
            # One migration at a time, whoever starts it (replicas starting together, the
            # workers of one serve): the others wait, then find the schema at head.
            if engine.dialect.name == "postgresql":
                await connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
            else:
                await connection.exec_driver_sql("BEGIN IMMEDIATE")
            revision = await connection.run_sync(_upgrade)
    except Exception as exc:
        message = scrub(f"{type(exc).__name__}: {exc}", engine.url)
        raise IndexUnavailable(
            f"cannot migrate the identity index at {safe_url(engine.url)}: {message}"
        ) from None
    return revision or ""


async def upgrade_to_head(url: str | URL) -> str:
    """:func:`upgrade` on a fresh engine for ``url``, disposed afterwards."""
    engine = make_engine(url)
    try:
        return await upgrade(engine)
    finally:
        await engine.dispose()
