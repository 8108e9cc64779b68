"""Opening the index: an engine for its URL, the schema migrated to head, a :class:`SQLIndex`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.engine import URL

from gateway.config import IdentitySettings, Settings
from gateway.index.components import DEFAULT_LIMIT
from gateway.index.engine import file_reader, make_engine, running_index_url
from gateway.index.migrate import upgrade
from gateway.index.store import SQLIndex

__all__ = ["open_configured_index", "open_index"]


async def open_index(
    url: str | URL,
    settings: IdentitySettings,
    *,
    max_component: int = DEFAULT_LIMIT,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> SQLIndex:
    """The index at ``url`` (see :func:`gateway.index.engine.index_url` for the configured
    one), migrated to head first; :class:`IndexUnavailable` when it cannot be opened. Close it
    with :meth:`SQLIndex.aclose`."""
    engine = make_engine(url)
    try:
        await upgrade(engine)
    except BaseException:
        await engine.dispose()
        raise
    return SQLIndex(
        engine,
        settings,
        max_component=max_component,
        clock=clock,
        reader=file_reader(url),
    )


async def open_configured_index(settings: Settings) -> SQLIndex:
    """The index a running gateway or sync uses (:func:`running_index_url`)."""
    return await open_index(running_index_url(settings), settings.identity)
