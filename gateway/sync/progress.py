"""``customer-gateway sync``'s progress on stderr: one line redrawn in place on a terminal,
plain lines otherwise (a log file or CI shows when each provider started, how far it got and
how it ended).

The providers' listing APIs give no totals (Stripe's has none), so progress counts records per
provider instead of drawing a percentage. No progress library is needed for one line.
"""

from __future__ import annotations

from typing import TextIO

from gateway.sync.status import ProviderSyncStatus, SyncState

__all__ = ["Progress"]

_MARKS = {
    SyncState.PENDING: "waiting",
    SyncState.RUNNING: "listing",
    SyncState.COMPLETE: "done",
    SyncState.FAILED: "FAILED",
}


class Progress:
    """A :class:`~gateway.sync.status.SyncBoard` listener; ``every``: pages between plain
    lines for one provider."""

    def __init__(self, stream: TextIO, *, tty: bool | None = None, every: int = 10) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.every = max(1, every)
        self._latest: dict[str, ProviderSyncStatus] = {}
        self._drawn = False

    def update(self, status: ProviderSyncStatus) -> None:
        before = self._latest.get(status.provider)
        self._latest[status.provider] = status
        if self.tty:
            self._draw()
        elif self._worth_a_line(before, status):
            self.stream.write(f"sync: {_describe(status)}\n")
            self.stream.flush()

    def close(self) -> None:
        """End the redrawn line, so what follows starts on its own."""
        if self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False

    def _worth_a_line(self, before: ProviderSyncStatus | None, now: ProviderSyncStatus) -> bool:
        if before is None or before.state is not now.state:
            return True
        return (
            now.state is SyncState.RUNNING
            and now.pages != before.pages
            and (now.pages % self.every == 0)
        )

    def _draw(self) -> None:
        line = " | ".join(_describe(s) for _, s in sorted(self._latest.items()))
        self.stream.write(f"\r\x1b[2Ksync: {line}")
        self.stream.flush()
        self._drawn = True


def _describe(status: ProviderSyncStatus) -> str:
    text = f"{status.provider} {status.records:,} records {_MARKS[status.state]}"
    return f"{text} ({status.error})" if status.error and status.state is SyncState.FAILED else text
