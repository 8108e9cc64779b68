"""Migrations create the schema the code declares, run idempotently; passwords stay hidden."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from gateway.config import IdentitySettings, Settings, load_settings
from gateway.index import (
    ChangeSource,
    IndexUnavailable,
    RecordChange,
    data_dir,
    head_revision,
    index_url,
    open_index,
    upgrade_to_head,
)
from gateway.index.engine import make_engine, safe_url
from gateway.index.tables import METADATA
from tests.identity.test_resolver import stripe
from tests.servers import PostgresServer, reset_postgres

SETTINGS = IdentitySettings()


def _differences(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), METADATA))


async def test_migrations_create_the_declared_schema_and_are_idempotent(index_url: str) -> None:
    first = await upgrade_to_head(index_url)
    again = await upgrade_to_head(index_url)

    assert first == again == head_revision()
    engine = make_engine(index_url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            differences = await conn.run_sync(_differences)
    finally:
        await engine.dispose()
    if "sqlite" in index_url and ":memory:" in index_url:
        return  # a new in-memory database per engine: nothing to inspect
    assert set(METADATA.tables) <= tables
    assert differences == []


@pytest.mark.parametrize("backend", ["sqlite-file", "postgresql"])
async def test_replicas_starting_together_migrate_once_and_all_open(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Several gateways opening one new index at once (replicas, the workers of one serve)."""
    if backend == "postgresql":
        server = request.getfixturevalue("postgres_server")
        await reset_postgres(server.url)
        url: str = server.url
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'index.sqlite3'}"

    revisions = await asyncio.gather(*(upgrade_to_head(url) for _ in range(4)))

    assert revisions == [head_revision()] * 4


async def test_an_index_file_keeps_its_customers_across_opens(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'sub' / 'index.sqlite3'}"
    first = await open_index(url, SETTINGS)
    record = stripe("cus_A", email="a@x.com")
    await first.apply([RecordChange(record, datetime.now(UTC), ChangeSource.BACKFILL)])
    await first.aclose()

    reopened = await open_index(url, SETTINGS)
    try:
        assert (await reopened.stats()).customers == 1
    finally:
        await reopened.aclose()
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_differences) == []
    finally:
        await engine.dispose()


def test_the_default_location_is_the_data_directory(tmp_path: Path) -> None:
    settings = Settings(providers={})
    env = {"XDG_DATA_HOME": str(tmp_path)}
    assert data_dir(settings, env) == tmp_path / "customer-gateway"
    assert index_url(settings, env) == (
        f"sqlite+aiosqlite:///{tmp_path / 'customer-gateway' / 'index.sqlite3'}"
    )
    assert data_dir(settings, {}) == Path.home() / ".local" / "share" / "customer-gateway"
    chosen = Settings(providers={}, data_dir=str(tmp_path / "d"), index_url="sqlite:///x.db")
    assert data_dir(chosen, env) == tmp_path / "d"
    assert index_url(chosen, env) == "sqlite:///x.db"


def test_the_tests_keep_the_data_directory_out_of_home(_gateway_data_dir: Path) -> None:
    assert data_dir(load_settings()) == _gateway_data_dir


async def test_a_password_never_shows(postgres_server: PostgresServer) -> None:
    secret = "s3cr3t-Pa55"
    url = postgres_server.url_with_password(secret)
    index = await open_index(url, SETTINGS)
    try:
        assert secret not in repr(index) and secret not in str(index)
        assert secret not in index.url and "***" in index.url
        assert secret not in repr(Settings(providers={}, index_url=url))
    finally:
        await index.aclose()

    unreachable = url.replace(f":{postgres_server.port}/", ":1/")
    with pytest.raises(IndexUnavailable) as caught:
        await open_index(unreachable, SETTINGS)
    assert secret not in str(caught.value) and secret not in repr(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert "***" in str(caught.value)


def test_safe_url_masks_and_unsupported_drivers_are_refused() -> None:
    assert safe_url("postgresql+asyncpg://u:pw@h/db") == "postgresql+asyncpg://u:***@h/db"
    with pytest.raises(IndexUnavailable, match="supports"):
        make_engine("mysql://u:pw@h/db")
    with pytest.raises(IndexUnavailable, match="not a SQLAlchemy URL"):
        make_engine("no url at all")
