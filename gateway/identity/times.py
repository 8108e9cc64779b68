"""One reading of a moment for identity: providers give naive and aware datetimes alike.

A naive ``created_at`` or override time is taken as UTC, so any two moments compare (mixing
naive and aware values in one sort would raise) and ordering never depends on the input.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["as_utc"]


def as_utc(moment: datetime) -> datetime:
    """``moment`` with a zone: naive values are taken as UTC, aware ones are kept."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
