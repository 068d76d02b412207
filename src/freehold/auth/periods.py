"""Budget periods and rate-limit windows on the UTC calendar.

A counter belongs to one period (``2026-11-23`` for a day, ``2026-11`` for a month, ``total``)
or one minute window; the next period starts from zero by construction, so nothing has to
reset anything at midnight.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from freehold.auth.keys import Period


def label(period: Period, now: datetime) -> str:
    """The id of the period ``now`` falls in."""
    now = now.astimezone(UTC)
    if period == "day":
        return now.strftime("%Y-%m-%d")
    if period == "month":
        return now.strftime("%Y-%m")
    return "total"


def start(period: Period, now: datetime, since: datetime) -> datetime:
    """When the period ``now`` falls in began (for ``total``: ``since``, the key's creation)."""
    now = now.astimezone(UTC)
    if period == "day":
        return now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "month":
        return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return since.astimezone(UTC)


def end(period: Period, now: datetime) -> datetime | None:
    """When the period ``now`` falls in ends (None for ``total``)."""
    now = now.astimezone(UTC)
    if period == "day":
        return start("day", now, now) + timedelta(days=1)
    if period == "month":
        first = start("month", now, now)
        return (first + timedelta(days=32)).replace(day=1)
    return None


def minute(now: datetime) -> int:
    """The rate-limit window ``now`` falls in: whole minutes since the epoch."""
    return int(now.timestamp() // 60)


def retry_after(now: datetime) -> int:
    """Whole seconds until the next minute window opens (at least 1)."""
    return max(1, 60 - int(now.timestamp() % 60))
