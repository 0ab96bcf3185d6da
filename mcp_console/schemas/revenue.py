"""Author revenue DTOs: what an author's priced services earned, by service, version, month."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from mcp_console.schemas.base import Dto


class RevenueBreakdown(StrEnum):
    """What an author's revenue is grouped by."""

    SERVICE = "service"
    VERSION = "version"
    MONTH = "month"


class RevenueQuery(Dto):
    """An author's revenue over a period, grouped one way.

    ``start``/``end`` (``from``/``to`` in the CLI and the API) read as a usage query's do
    (a month, a day, an ISO 8601 time or a duration back from now); the default is this
    calendar month so far. ``author`` names whose services (default: the caller's own; only
    an admin may name another author).
    """

    by: RevenueBreakdown = RevenueBreakdown.SERVICE
    start: str | None = None
    end: str | None = None
    author: str | None = Field(default=None, min_length=1, max_length=100)


class RevenueRow(Dto):
    """What one group of an author's priced calls earned.

    Attributes:
        key: the group: a service's name, a version (``1.2.0``) or a month (``YYYY-MM``).
        service: the version's service (``version`` breakdowns only).
        requests: calls made at a PAID or FREEMIUM price, failed ones included.
        errors: those that failed (never charged, so never earned).
        free: successful calls within a free allowance.
        charged: successful calls the callers paid for.
        earned: what the callers were charged for them, rounded once from the exact sum.
    """

    key: str
    service: str | None = None
    requests: int
    errors: int
    free: int
    charged: int
    earned: Decimal


class RevenueReport(Dto):
    """An author's revenue of a period by one breakdown, with the total (rounded from its own
    exact sum, as every amount is)."""

    author: str
    by: RevenueBreakdown
    start: datetime
    end: datetime
    currency: str
    rows: list[RevenueRow]
    total: RevenueRow
