"""One background sync per identity index: the process holding the index's sync lease
(gateway/index/lease.py) runs its :class:`SyncRunner`; the others stand by.

A standby tries to take the lease every :func:`lease_interval` seconds and starts the sync
when it gets it, so a leader that stops (shut down, crashed, its database connection lost) is
taken over within that. A standby keeps everything else: verified webhooks, read-repair and
write-through still go into the shared index (:attr:`SyncRunner.sink` needs no running sync),
and reads learn from the index's saved backfill cursors when it is synced.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from types import MappingProxyType
from typing import Any, Final

from gateway.config import SyncSettings
from gateway.index import INDEX_ERRORS
from gateway.index.lease import SyncLease
from gateway.sync.backfill import BACKFILL
from gateway.sync.incremental import wait_or_stop
from gateway.sync.runner import SyncRunner
from gateway.sync.status import ProviderSyncStatus, SyncState, SyncStatus, error_text

__all__ = ["LEASE_INTERVAL_MAX", "Role", "SyncLeader", "lease_interval"]

logger = logging.getLogger("customer_gateway.sync")

LEASE_INTERVAL_MAX: Final = 5.0
"""Most seconds between a standby's attempts to take the lease (and a leader's checks that it
still holds it); a shorter ``sync.poll_interval`` shortens it too."""


def lease_interval(settings: SyncSettings) -> float:
    """How often the lease is tried (standby) or checked (leader)."""
    return min(settings.poll_interval, LEASE_INTERVAL_MAX)


class Role(enum.StrEnum):
    """This process's part in the index's sync (``/healthz``: ``sync.role``)."""

    LEADER = "leader"
    STANDBY = "standby"


class SyncLeader:
    """Runs ``runner`` while this process holds ``lease``; tries for it every ``interval``."""

    def __init__(self, runner: SyncRunner, lease: SyncLease, *, interval: float) -> None:
        self.runner = runner
        self.lease = lease
        self.interval = interval
        self.role = Role.STANDBY
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Try for the lease now (a lone process leads from start-up), then keep trying (or
        checking) in the background until :meth:`aclose`."""
        if self._task is not None:
            raise RuntimeError("the sync leader is already running")
        self._stop.clear()
        await self._attempt()
        self._task = asyncio.create_task(self._watch(), name="sync:lease")

    async def aclose(self) -> None:
        """Stop the sync (when leading) and hand the lease back; no task outlives this."""
        self._stop.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self.runner.aclose()
        if self.role is Role.LEADER:
            self.role = Role.STANDBY
            await self.lease.release()
            logger.info("sync: handed back the lease (%s)", self.lease.where)

    async def status(self) -> dict[str, Any]:
        """The ``sync`` entry of ``/healthz``: this process's ``role``, then the sync's status:
        its own runner's when leading, else what the index's saved cursors say."""
        if self.role is Role.LEADER:
            status = self.runner.status()
        else:
            status = await self._index_status()
        return {"role": self.role.value, **status.as_json()}

    async def _attempt(self) -> None:
        try:
            if not await self.lease.acquire():
                return
        except Exception as exc:  # the database down, say: a standby until the next try
            logger.warning("sync: cannot try the lease (%s): %s", self.lease.where, error_text(exc))
            return
        self.role = Role.LEADER
        logger.info("sync: took the lease (%s); this process runs the sync", self.lease.where)
        await self.runner.start()

    async def _watch(self) -> None:
        while not await wait_or_stop(self._stop, self.interval):
            if self.role is Role.STANDBY:
                await self._attempt()
            elif not await self._still_held():
                # Its connection is gone, and the lock with it: another process may lead now.
                logger.warning("sync: lost the lease (%s); standing by", self.lease.where)
                self.role = Role.STANDBY
                await self.runner.aclose()
                await self.lease.release()

    async def _still_held(self) -> bool:
        try:
            return await self.lease.held()
        except Exception:  # cannot tell: as if lost, rather than risk two leaders
            return False

    async def _index_status(self) -> SyncStatus:
        """Each provider as its saved backfill cursor has it: complete (listed to the end by
        whichever process), else pending; an index that cannot say shows pending."""
        providers: dict[str, ProviderSyncStatus] = {}
        for name in self.runner.adapters:
            cursor = None
            with contextlib.suppress(*INDEX_ERRORS):
                cursor = await self.runner.index.cursor(name, BACKFILL)
            if cursor is not None and cursor.complete:
                providers[name] = ProviderSyncStatus(
                    name, SyncState.COMPLETE, cursor.records, finished_at=cursor.updated_at
                )
            else:
                records = cursor.records if cursor is not None else 0
                providers[name] = ProviderSyncStatus(name, records=records)
        return SyncStatus(MappingProxyType(providers), self.runner.board.snapshot().at)
