"""Backfill: list a provider to the end into the index, resumable from a cursor saved after
every page.

The listing itself (:func:`list_provider`) also serves the periodic re-listing of providers
without an events list (stream ``relist``, gateway/sync/incremental.py). Calls go through the
adapter's own resilient client (gateway/providers/http.py), so its client-side rate limit,
concurrency cap, retries and circuit breaker apply to every page: no second limiter here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from gateway.config import SyncSettings
from gateway.errors import ProviderError
from gateway.index.contract import ChangeSource, IdentityIndex, RecordChange, SyncCursor
from gateway.model import RecordRef
from gateway.providers.contract import ChangeFeed, ProviderAdapter
from gateway.sync.status import Clock, SyncBoard, error_text
from gateway.sync.sweep import sweep_deleted

__all__ = [
    "BACKFILL",
    "EVENTS",
    "RELIST",
    "Listing",
    "backfill_provider",
    "change_feed",
    "list_provider",
    "mark_events_head",
]

logger = logging.getLogger("customer_gateway.sync")

BACKFILL = "backfill"
EVENTS = "events"
RELIST = "relist"
"""The cursor streams (:attr:`SyncCursor.stream`)."""


@dataclass(frozen=True, slots=True)
class Listing:
    """How one listing pass ended."""

    records: int
    """Records this stream has listed, resumed runs included."""
    complete: bool
    """Reached the last page (else stopped, its cursor saved)."""
    deleted: int = 0
    """Deletions swept (only by a pass that started at the first page)."""


def change_feed(adapter: ProviderAdapter) -> ChangeFeed | None:
    """The adapter's events list, when it declares and implements one."""
    if adapter.capabilities.change_feed and isinstance(adapter, ChangeFeed):
        return adapter
    return None


async def list_provider(
    adapter: ProviderAdapter,
    index: IdentityIndex,
    *,
    stream: str,
    source: ChangeSource,
    page_size: int,
    clock: Clock,
    stop: asyncio.Event,
    restart: bool = False,
    on_start: Callable[[int], None] | None = None,
    on_page: Callable[[int], None] | None = None,
) -> Listing:
    """List ``adapter`` page by page into ``index``, saving ``stream``'s cursor after each page.

    A pass resumes from the stream's saved, unfinished cursor (``restart`` ignores it). Only a
    pass that began at the first page sweeps deletions at its end (:func:`sweep_deleted`).
    ``on_start`` hears the records listed before (when resuming), ``on_page`` the running
    count after each page. Stops between pages
    once ``stop`` is set; a failing page raises :class:`~gateway.errors.ProviderError` with the
    cursor of the pages before it saved.
    """
    name = adapter.name
    saved = await index.cursor(name, stream)
    resume = not restart and saved is not None and not saved.complete and saved.position is not None
    position = saved.position if resume and saved is not None else None
    records = saved.records if resume and saved is not None else 0
    listed: set[RecordRef] | None = None if resume else set()
    started = clock()
    if on_start is not None:
        on_start(records)
    while True:
        if stop.is_set():
            return Listing(records, complete=False)
        page = await adapter.list_page(position, page_size)
        observed = clock()
        if page.records:
            await index.apply([RecordChange(r, observed, source) for r in page.records])
        if listed is not None:
            listed.update(r.ref for r in page.records)
        records += len(page.records)
        position = page.next_cursor
        if on_page is not None:
            on_page(records)
        if position is None:
            break
        await index.save_cursor(SyncCursor(name, stream, position, False, records, clock()))
    deleted = 0
    if listed is not None:
        deleted = await sweep_deleted(index, name, listed, listing_started=started, source=source)
    await index.save_cursor(SyncCursor(name, stream, None, True, records, clock()))
    return Listing(records, complete=True, deleted=deleted)


async def mark_events_head(
    feed: ChangeFeed,
    index: IdentityIndex,
    provider: str,
    *,
    limit: int,
    clock: Clock,
    stop: asyncio.Event,
) -> bool:
    """Save the events stream's first cursor at the feed's current end, before any listing.

    Every change after this point is then read from the feed, and every change before it is in
    the listing that follows, so nothing falls between the two; a change seen both ways
    converges (the index keeps the newest per record). The feed offers no "latest" position,
    so the retained events are read through once, without applying them. Returns ``False``
    when stopped first (nothing saved).
    """
    position: str | None = None
    while True:
        if stop.is_set():
            return False
        page = await feed.events(position, limit)
        if page.cursor is not None:
            position = page.cursor
        if not page.has_more:
            break
    await index.save_cursor(SyncCursor(provider, EVENTS, position, False, 0, clock()))
    return True


async def backfill_provider(
    adapter: ProviderAdapter,
    index: IdentityIndex,
    board: SyncBoard,
    settings: SyncSettings,
    *,
    clock: Clock,
    stop: asyncio.Event,
) -> bool:
    """One provider's backfill, to the end or until stopped; ``True`` once it is complete.

    Already complete: nothing is listed. A provider failure (:class:`ProviderError`, or any
    other error) ends this provider's pass only, recorded on ``board``; the next pass resumes
    from the saved cursor.
    """
    name = adapter.name
    page_size = settings.page_size_for(adapter.capabilities.max_page_size)
    try:
        saved = await index.cursor(name, BACKFILL)
        restart = False
        feed = change_feed(adapter)
        if feed is not None and await index.cursor(name, EVENTS) is None:
            # Listed before the events stream began (the feed is new): list again after
            # marking the head, or changes between that listing and now would be missed.
            restart = saved is not None
            board.started(name, 0)
            if not await mark_events_head(
                feed, index, name, limit=page_size, clock=clock, stop=stop
            ):
                board.stopped(name)
                return False
        if saved is not None and saved.complete and not restart:
            board.complete(name, saved.records)
            return True
        result = await list_provider(
            adapter,
            index,
            stream=BACKFILL,
            source=ChangeSource.BACKFILL,
            page_size=page_size,
            clock=clock,
            stop=stop,
            restart=restart,
            on_start=lambda records: board.started(name, records),
            on_page=lambda records: board.page(name, records),
        )
    except Exception as exc:  # a provider's failure must not stop the others
        board.failed(name, exc)
        logger.warning(
            "sync: backfill of %s stopped: %s; the next run resumes from the saved cursor",
            name,
            error_text(exc),
            extra={"provider": name, "error": error_text(exc)},
            exc_info=not isinstance(exc, ProviderError),
        )
        return False
    if not result.complete:
        board.stopped(name)
        return False
    board.complete(name, result.records)
    logger.info(
        "sync: backfill of %s complete: %d records",
        name,
        result.records,
        extra={"provider": name, "records": result.records, "deleted": result.deleted},
    )
    return True
