"""Human times relative to a clock the app is given (snapshot tests freeze it)."""

from __future__ import annotations

from datetime import UTC, datetime

_UNITS = ((365 * 86400, "year"), (30 * 86400, "month"), (86400, "day"), (3600, "hour"))


def ago(when: datetime, now: datetime) -> str:
    """``3 days ago``, ``just now``; a naive time is taken as UTC."""
    seconds = (_aware(now) - _aware(when)).total_seconds()
    return "just now" if seconds < 60 else f"{_span(seconds)} ago"


def until(when: datetime, now: datetime) -> str:
    """``in 30 days`` for a time to come, ``3 days ago`` for one gone by."""
    seconds = (_aware(when) - _aware(now)).total_seconds()
    if seconds <= 0:
        return ago(when, now)
    return "in under a minute" if seconds < 60 else f"in {_span(seconds)}"


def _aware(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def _span(seconds: float) -> str:
    for size, unit in _UNITS:
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    minutes = int(seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def day(when: datetime) -> str:
    """The calendar date, ``2026-11-25``."""
    return when.date().isoformat()
