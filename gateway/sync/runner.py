"""The sync of every configured provider into the identity index: one backfill pass for
``customer-gateway sync``, or ``serve``'s background task (backfill, then incremental).

Each provider runs on its own, concurrently and within its adapter's client-side rate limit: a
provider that fails is retried with growing pauses while the others carry on, and nothing a
provider does can end the task or the app. :meth:`SyncRunner.aclose` stops everything promptly;
cursors are saved after each applied page, so the next start resumes where this one stopped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from gateway.config import Settings
from gateway.identity.survivorship import provider_rank
from gateway.index.contract import IdentityIndex
from gateway.providers.contract import ChangeSink, ProviderAdapter
from gateway.sync.backfill import backfill_provider, change_feed
from gateway.sync.incremental import apply_events, poll_events, relist_loop, wait_or_stop
from gateway.sync.status import Clock, Listener, SyncBoard, SyncState, SyncStatus, utcnow

__all__ = ["SyncRunner"]

logger = logging.getLogger("customer_gateway.sync")

_MAX_RETRY_DOUBLINGS = 10


class SyncRunner:
    """Keeps ``index`` current from ``adapters`` (those that can list; others are skipped)."""

    def __init__(
        self,
        index: IdentityIndex,
        adapters: Mapping[str, ProviderAdapter],
        settings: Settings,
        *,
        clock: Clock = utcnow,
        listener: Listener | None = None,
    ) -> None:
        self.index = index
        self.adapters = {n: a for n, a in sorted(adapters.items()) if a.capabilities.list_page}
        self.settings = settings.sync
        self.board = SyncBoard(self.adapters, clock=clock, listener=listener)
        self.sink: ChangeSink = apply_events(index)
        """Where the webhook endpoint hands verified events."""
        self._clock = clock
        self._stop = asyncio.Event()
        self._led = asyncio.Event()
        """Set once the lead provider's first backfill attempt has ended."""
        self._tasks: list[asyncio.Task[None]] = []

    def status(self) -> SyncStatus:
        return self.board.snapshot()

    def is_synced(self, provider: str) -> bool:
        """Whether ``provider`` has been listed to the end (until then, lookups go live)."""
        return provider in self.adapters and self.board.get(provider).state is SyncState.COMPLETE

    async def run_backfill(self) -> SyncStatus:
        """One backfill pass over every provider, concurrently; resumes saved cursors, skips
        providers already complete. Failures are in the returned status, never raised."""
        lead, rest = self._lead()
        if lead is not None:
            await self._backfill(lead)
        await asyncio.gather(*(self._backfill(adapter) for adapter in rest))
        return self.status()

    def _lead(self) -> tuple[ProviderAdapter | None, list[ProviderAdapter]]:
        """The provider customers are anchored in first (Stripe, then Lago, ...), listed before
        the others: the customers the index meets first get their ids minted from it, the
        ids a gateway without the index gave them, rather than from whichever provider's
        page happened to arrive first. The others then list concurrently."""
        ranked = sorted(self.adapters.values(), key=lambda a: provider_rank(a.name))
        return (ranked[0], ranked[1:]) if ranked else (None, [])

    async def start(self) -> None:
        """Start the background sync: per provider, backfill (retried until complete), then
        events polling or periodic re-listing."""
        if self._tasks:
            raise RuntimeError("the sync is already running")
        self._stop.clear()
        self._led.clear()
        lead, _ = self._lead()
        self._tasks = [
            asyncio.create_task(self._run(adapter, follow=adapter is not lead), name=f"sync:{name}")
            for name, adapter in self.adapters.items()
        ]
        logger.info("sync: started for %s", ", ".join(self.adapters) or "no provider")

    async def aclose(self) -> None:
        """Stop the background sync and wait for it: no task outlives this call."""
        self._stop.set()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for name in self.adapters:
            self.board.stopped(name)

    def stop(self) -> None:
        """Ask running passes to stop after their current page (e.g. on Ctrl-C in the CLI)."""
        self._stop.set()

    async def _backfill(self, adapter: ProviderAdapter) -> bool:
        return await backfill_provider(
            adapter, self.index, self.board, self.settings, clock=self._clock, stop=self._stop
        )

    async def _run(self, adapter: ProviderAdapter, *, follow: bool) -> None:
        """``follow``: start once the lead provider's first backfill attempt has ended (done
        or failed: a provider down never holds the others back for long)."""
        name = adapter.name
        try:
            if follow:
                await self._led.wait()
            failures = 0
            try:
                done = await self._backfill(adapter)
            finally:
                self._led.set()
            while not done:
                failures += 1
                pause = self.settings.poll_interval * 2 ** min(failures, _MAX_RETRY_DOUBLINGS)
                if await wait_or_stop(self._stop, min(pause, self.settings.relist_interval)):
                    return
                done = await self._backfill(adapter)
            feed = change_feed(adapter)
            limit = self.settings.page_size_for(adapter.capabilities.max_page_size)
            if feed is not None:
                await poll_events(
                    feed,
                    self.index,
                    self.board,
                    name,
                    self.settings,
                    limit=limit,
                    clock=self._clock,
                    stop=self._stop,
                )
            else:
                await relist_loop(
                    adapter,
                    self.index,
                    self.board,
                    self.settings,
                    clock=self._clock,
                    stop=self._stop,
                )
        except Exception as exc:  # never crash the app: report and end this provider's sync
            self.board.failed(name, exc)
            logger.exception("sync: %s stopped on an unexpected error", name)
