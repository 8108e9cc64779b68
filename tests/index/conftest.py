"""The identity index's tests run on both backends: in-memory SQLite always, PostgreSQL from
the system's binaries (tests/servers.py; skipped locally without them, failed in CI)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from gateway.config import IdentitySettings
from gateway.index import SQLIndex, open_index

SETTINGS = IdentitySettings()
MEMORY = "sqlite+aiosqlite:///:memory:"


class Clock:
    """ "Now" one second later at each call, so mint times are distinct and ordered."""

    def __init__(self, start: datetime = datetime(2025, 1, 1, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


IndexFactory = Callable[..., Awaitable[SQLIndex]]


@pytest.fixture
async def make_index(index_url: str) -> AsyncIterator[IndexFactory]:
    """Opens indexes on the test's database (``settings``, ``clock`` and options as for
    :func:`open_index`); all closed at the end."""
    opened: list[SQLIndex] = []

    async def make(settings: IdentitySettings = SETTINGS, **options: object) -> SQLIndex:
        options.setdefault("clock", Clock())
        index = await open_index(index_url, settings, **options)  # type: ignore[arg-type]
        opened.append(index)
        return index

    yield make
    for index in opened:
        await index.aclose()


@pytest.fixture
async def index(make_index: IndexFactory) -> SQLIndex:
    return await make_index()
