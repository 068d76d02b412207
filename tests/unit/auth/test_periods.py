"""Budget periods and rate windows on the UTC calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from freehold.auth import periods


def test_labels_change_exactly_at_the_utc_boundary() -> None:
    before = datetime(2026, 11, 30, 23, 59, 59, 999999, tzinfo=UTC)
    after = before + timedelta(microseconds=1)
    assert periods.label("day", before) == "2026-11-30"
    assert periods.label("day", after) == "2026-12-01"
    assert periods.label("month", before) == "2026-11"
    assert periods.label("month", after) == "2026-12"
    assert periods.label("total", before) == periods.label("total", after) == "total"


def test_local_times_count_in_utc() -> None:
    tokyo = timezone(timedelta(hours=9))
    assert periods.label("day", datetime(2026, 12, 1, 8, 0, tzinfo=tokyo)) == "2026-11-30"


def test_period_start_and_end() -> None:
    now = datetime(2026, 12, 31, 18, 0, tzinfo=UTC)
    created = datetime(2026, 5, 1, tzinfo=UTC)
    assert periods.start("day", now, created) == datetime(2026, 12, 31, tzinfo=UTC)
    assert periods.start("month", now, created) == datetime(2026, 12, 1, tzinfo=UTC)
    assert periods.start("total", now, created) == created
    assert periods.end("day", now) == datetime(2027, 1, 1, tzinfo=UTC)
    assert periods.end("month", now) == datetime(2027, 1, 1, tzinfo=UTC)
    assert periods.end("month", datetime(2027, 2, 10, tzinfo=UTC)) == datetime(
        2027, 3, 1, tzinfo=UTC
    )
    assert periods.end("total", now) is None


def test_minute_windows_and_retry_after() -> None:
    t = datetime(2026, 11, 23, 12, 0, 15, tzinfo=UTC)
    assert periods.minute(t) == periods.minute(t + timedelta(seconds=44))
    assert periods.minute(t + timedelta(seconds=45)) == periods.minute(t) + 1
    assert periods.retry_after(t) == 45
    assert periods.retry_after(datetime(2026, 11, 23, 12, 0, 59, 900000, tzinfo=UTC)) == 1
