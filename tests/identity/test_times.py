"""as_utc: naive moments are read as UTC, aware ones kept as they are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from gateway.identity.times import as_utc


def test_naive_is_taken_as_utc_and_aware_is_kept() -> None:
    assert as_utc(datetime(2024, 1, 1, 12)) == datetime(2024, 1, 1, 12, tzinfo=UTC)
    paris = datetime(2024, 1, 1, 13, tzinfo=timezone(timedelta(hours=1)))
    assert as_utc(paris) is paris
    assert as_utc(paris) == as_utc(datetime(2024, 1, 1, 12))
