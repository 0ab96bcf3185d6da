"""Human times relative to a clock the app is given (snapshot tests freeze it)."""

from __future__ import annotations

from datetime import UTC, datetime

_UNITS = ((365 * 86400, "year"), (30 * 86400, "month"), (86400, "day"), (3600, "hour"))


def ago(when: datetime, now: datetime) -> str:
    """``3 days ago``, ``just now``; a naive time is taken as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    seconds = (now - when).total_seconds()
    if seconds < 60:
        return "just now"
    for size, unit in _UNITS:
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    minutes = int(seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''} ago"


def day(when: datetime) -> str:
    """The calendar date, ``2026-11-25``."""
    return when.date().isoformat()
