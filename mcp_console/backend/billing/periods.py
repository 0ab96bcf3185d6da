"""The period of a usage query: whole UTC hours between two times people type."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from mcp_console.durations import EXAMPLES, read_duration
from mcp_console.schemas.billing import PRICE_STEP, hour_floor, next_hour
from mcp_console.schemas.errors import Invalid

_MONTH = re.compile(r"^\d{4}-\d{2}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def month_start(at: datetime) -> datetime:
    """The first hour of ``at``'s calendar month (UTC)."""
    return hour_floor(at).replace(day=1, hour=0)


def next_month(at: datetime) -> datetime:
    """The first hour of the calendar month after ``at``'s (UTC)."""
    start = month_start(at)
    return (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )


def read_time(text: str, field: str, *, end: bool, now: datetime) -> datetime:
    """``2026-12`` (a month), ``2026-12-07`` (a day), an ISO 8601 time (UTC unless it
    says) or a duration back from ``now`` (``7d``), as a whole hour.

    A start is the hour holding the time; an end is the end of the month or day named, or
    the hour after the time (so the period holds every call up to it).

    Raises:
        Invalid: ``text`` is none of those (``field`` names which).
    """
    value = text.strip()
    try:
        if _MONTH.match(value):
            at = datetime.strptime(value, "%Y-%m").replace(tzinfo=UTC)
            return next_month(at) if end else at
        if _DAY.match(value):
            at = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
            return at + 24 * PRICE_STEP if end else at
    except ValueError:
        raise Invalid(f"{field} {text!r} is not a real month or day", field=field) from None
    duration = read_duration(value)
    if duration is not None:
        at = now - duration
    else:
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            raise Invalid(
                f"{field} {text!r} is not a month (2026-12), a day (2026-12-07), an ISO 8601 "
                f"time or a duration ({EXAMPLES})",
                field=field,
            ) from None
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return next_hour(at) if end else hour_floor(at)


def period(start: str | None, end: str | None, now: datetime) -> tuple[datetime, datetime]:
    """The whole hours ``[start, end)`` a query names (default: this month so far).

    Raises:
        Invalid: a bad time, or an end not after the start.
    """
    # Named as people give them: --from and --to, ?from= and ?to=.
    first = read_time(start, "from", end=False, now=now) if start else month_start(now)
    last = read_time(end, "to", end=True, now=now) if end else hour_floor(now) + PRICE_STEP
    if last <= first:
        raise Invalid("to must be after from", field="to")
    return first, last
