"""Where each provider's sync stands, as a typed value for ``/healthz``, a status query and
the CLI's progress display.

:class:`SyncBoard` is the one mutable place the sync engine reports to; :meth:`SyncBoard.snapshot`
hands out frozen :class:`SyncStatus` values, so readers never see a half-updated provider.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from gateway.errors import ProviderError

__all__ = [
    "Clock",
    "Listener",
    "ProviderSyncStatus",
    "SyncBoard",
    "SyncState",
    "SyncStatus",
    "error_text",
    "utcnow",
]

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class SyncState(enum.StrEnum):
    """A provider's backfill: not started, listing, listed to the end once, or stopped by an
    error (a later run resumes from the saved cursor)."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ProviderSyncStatus:
    provider: str
    state: SyncState = SyncState.PENDING
    records: int = 0
    """Records the backfill has listed so far (across resumed runs)."""
    pages: int = 0
    """Pages listed by this process."""
    error: str | None = None
    """The last error, without secrets (provider errors are scrubbed of keys upstream; any
    other failure is named by type only)."""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    incremental: str | None = None
    """``events`` (polling the provider's events list) or ``relist`` (periodic re-listing)."""
    incremental_at: datetime | None = None
    """When the incremental stream last succeeded: the events cursor was confirmed current, or
    a re-listing completed."""
    incremental_error: str | None = None

    def cursor_age(self, now: datetime) -> float | None:
        """Seconds since the incremental stream last succeeded (``None``: never)."""
        if self.incremental_at is None:
            return None
        return max(0.0, (now - self.incremental_at).total_seconds())

    def as_json(self, now: datetime) -> dict[str, Any]:
        age = self.cursor_age(now)
        return {
            "state": self.state.value,
            "records": self.records,
            "error": self.error,
            "startedAt": _iso(self.started_at),
            "finishedAt": _iso(self.finished_at),
            "incremental": self.incremental,
            "cursorAgeSeconds": None if age is None else round(age, 3),
            "incrementalError": self.incremental_error,
        }


@dataclass(frozen=True, slots=True)
class SyncStatus:
    providers: Mapping[str, ProviderSyncStatus]
    at: datetime
    """When the snapshot was taken (ages are relative to it)."""

    @property
    def synced(self) -> bool:
        """Every provider has been listed to the end at least once."""
        return all(p.state is SyncState.COMPLETE for p in self.providers.values())

    def failed(self) -> list[str]:
        return sorted(n for n, p in self.providers.items() if p.state is SyncState.FAILED)

    def as_json(self) -> dict[str, Any]:
        """The ``sync`` entry of ``/healthz``."""
        return {
            "synced": self.synced,
            "providers": {n: p.as_json(self.at) for n, p in sorted(self.providers.items())},
        }


Listener = Callable[[ProviderSyncStatus], None]


class SyncBoard:
    """The engine's reports, per provider; ``listener`` hears every change (progress display)."""

    def __init__(
        self, providers: Iterable[str], *, clock: Clock = utcnow, listener: Listener | None = None
    ) -> None:
        self._clock = clock
        self._listener = listener
        self._status = {name: ProviderSyncStatus(name) for name in providers}

    def get(self, provider: str) -> ProviderSyncStatus:
        return self._status[provider]

    def snapshot(self) -> SyncStatus:
        return SyncStatus(MappingProxyType(dict(self._status)), self._clock())

    def started(self, provider: str, records: int) -> None:
        self._set(
            provider,
            state=SyncState.RUNNING,
            records=records,
            error=None,
            started_at=self._clock(),
            finished_at=None,
        )

    def page(self, provider: str, records: int) -> None:
        self._set(provider, records=records, pages=self.get(provider).pages + 1)

    def complete(self, provider: str, records: int) -> None:
        now = self._clock()
        current = self.get(provider)
        self._set(
            provider,
            state=SyncState.COMPLETE,
            records=records,
            error=None,
            started_at=current.started_at or now,
            finished_at=now,
        )

    def failed(self, provider: str, error: BaseException) -> None:
        self._set(provider, state=SyncState.FAILED, error=error_text(error), finished_at=None)

    def stopped(self, provider: str) -> None:
        """Stopped before the end without an error (shutdown): pending again, cursor saved."""
        if self.get(provider).state is SyncState.RUNNING:
            self._set(provider, state=SyncState.PENDING)

    def incremental_ok(self, provider: str, stream: str) -> None:
        self._set(
            provider, incremental=stream, incremental_at=self._clock(), incremental_error=None
        )

    def incremental_failed(self, provider: str, stream: str, error: BaseException) -> None:
        self._set(provider, incremental=stream, incremental_error=error_text(error))

    def _set(self, provider: str, **changes: Any) -> None:
        status = replace(self._status[provider], **changes)
        self._status[provider] = status
        if self._listener is not None:
            self._listener(status)


def error_text(error: BaseException) -> str:
    """A failure as status and logs may show it: a provider's own (already scrubbed) message,
    else only the exception's type: other messages may hold SQL, URLs with passwords or data."""
    if isinstance(error, ProviderError):
        return str(error)
    return f"internal error ({type(error).__name__}); see the gateway's logs"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
