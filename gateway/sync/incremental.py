"""Incremental sync after the backfill: poll the events list where a provider has one (Stripe,
Tofupay), re-list the others periodically (ChartMogul, FirstOfficer, Lago), and apply the
events webhooks deliver.

Events are applied dated by their ``occurred_at``; the index keeps, per record, the newest
change it has seen, so duplicated and out-of-order deliveries (a webhook and the events list
reporting the same change, a retry) converge to the same graph.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from gateway.config import SyncSettings
from gateway.errors import ProviderError
from gateway.index.contract import ChangeSource, IdentityIndex, RecordChange, SyncCursor
from gateway.model import ChangeEvent
from gateway.providers.contract import ChangeFeed, ChangeSink, ProviderAdapter
from gateway.sync.backfill import BACKFILL, EVENTS, RELIST, list_provider
from gateway.sync.status import Clock, SyncBoard, error_text

__all__ = [
    "apply_events",
    "changes_from",
    "poll_events",
    "poll_events_once",
    "relist_loop",
    "wait_or_stop",
]

logger = logging.getLogger("customer_gateway.sync")


def changes_from(events: Sequence[ChangeEvent], source: ChangeSource) -> list[RecordChange]:
    """Events as index changes, each dated when it happened upstream."""
    return [RecordChange(e.record, e.occurred_at, source) for e in events]


def apply_events(index: IdentityIndex) -> ChangeSink:
    """The :data:`ChangeSink` verified webhook events go to: applied as ``WEBHOOK`` changes."""

    async def sink(events: Sequence[ChangeEvent]) -> None:
        if events:
            await index.apply(changes_from(events, ChangeSource.WEBHOOK))

    return sink


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to ``seconds``, waking at once when ``stop`` is set; ``True`` when stopped."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(0.0, seconds))
    return stop.is_set()


async def poll_events_once(
    feed: ChangeFeed,
    index: IdentityIndex,
    provider: str,
    *,
    limit: int,
    clock: Clock,
    stop: asyncio.Event,
) -> int:
    """Read the events list from the saved cursor to its end, applying each slice and saving
    the cursor after it; returns the events applied. A slice is applied before its cursor is
    saved, so a crash between the two replays that slice (harmless) instead of losing it."""
    saved = await index.cursor(provider, EVENTS)
    position = saved.position if saved is not None else None
    seen = saved.records if saved is not None else 0
    applied = 0
    while not stop.is_set():
        page = await feed.events(position, limit)
        if page.events:
            await index.apply(changes_from(page.events, ChangeSource.EVENT))
            applied += len(page.events)
        moved = page.cursor is not None and page.cursor != position
        if moved:
            position = page.cursor
        if page.events or moved or saved is None:
            done = not page.has_more
            saved = SyncCursor(provider, EVENTS, position, done, seen + applied, clock())
            await index.save_cursor(saved)
        if not page.has_more:
            break
    return applied


async def poll_events(
    feed: ChangeFeed,
    index: IdentityIndex,
    board: SyncBoard,
    provider: str,
    settings: SyncSettings,
    *,
    limit: int,
    clock: Clock,
    stop: asyncio.Event,
) -> None:
    """Poll every ``settings.poll_interval`` until stopped; a failed poll is reported and
    retried at the next interval (or after the provider's ``Retry-After``)."""
    while not stop.is_set():
        wait = settings.poll_interval
        try:
            await poll_events_once(feed, index, provider, limit=limit, clock=clock, stop=stop)
        except Exception as exc:  # reported; the loop lives on
            board.incremental_failed(provider, EVENTS, exc)
            _log_failure(provider, EVENTS, exc)
            if isinstance(exc, ProviderError) and exc.retry_after:
                wait = max(wait, exc.retry_after)
        else:
            board.incremental_ok(provider, EVENTS)
        if await wait_or_stop(stop, wait):
            return


async def relist_loop(
    adapter: ProviderAdapter,
    index: IdentityIndex,
    board: SyncBoard,
    settings: SyncSettings,
    *,
    clock: Clock,
    stop: asyncio.Event,
) -> None:
    """Re-list ``adapter`` every ``settings.relist_interval`` (counted from the last complete
    listing, even one an earlier process made) until stopped. Records a complete re-listing
    no longer returns are deleted (gateway/sync/sweep.py); an interrupted one resumes."""
    name = adapter.name
    page_size = settings.page_size_for(adapter.capabilities.max_page_size)
    while not stop.is_set():
        due = await _relist_due(index, name, settings.relist_interval)
        if await wait_or_stop(stop, (due - clock()).total_seconds()):
            return
        try:
            listing = await list_provider(
                adapter,
                index,
                stream=RELIST,
                source=ChangeSource.RELIST,
                page_size=page_size,
                clock=clock,
                stop=stop,
            )
        except Exception as exc:  # reported; retried after an interval
            board.incremental_failed(name, RELIST, exc)
            _log_failure(name, RELIST, exc)
            if await wait_or_stop(stop, settings.poll_interval):
                return
            continue
        if listing.complete:
            board.incremental_ok(name, RELIST)
            logger.info(
                "sync: re-listed %s: %d records, %d deleted",
                name,
                listing.records,
                listing.deleted,
                extra={"provider": name, "records": listing.records, "deleted": listing.deleted},
            )


async def _relist_due(index: IdentityIndex, provider: str, interval: float) -> datetime:
    """When the next re-listing is due: at once for an interrupted one, else ``interval``
    after the last complete listing (re-listing or backfill)."""
    relist = await index.cursor(provider, RELIST)
    if relist is not None and not relist.complete:
        return relist.updated_at
    last = relist if relist is not None else await index.cursor(provider, BACKFILL)
    if last is None:
        raise RuntimeError(f"re-listing {provider} before its backfill completed")
    return last.updated_at + timedelta(seconds=interval)


def _log_failure(provider: str, stream: str, exc: BaseException) -> None:
    logger.warning(
        "sync: %s %s failed: %s; retrying",
        provider,
        stream,
        error_text(exc),
        extra={"provider": provider, "stream": stream, "error": error_text(exc)},
        exc_info=not isinstance(exc, ProviderError),
    )
