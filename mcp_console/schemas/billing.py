"""Billing DTOs: a service's prices over time, and usage read back by breakdown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from mcp_console.schemas.base import Dto, RequestBody
from mcp_console.schemas.catalog import PriceModel

# Usage is metered per hour: a price takes effect on a whole hour (UTC), so every hour's
# calls have one price and usage before a change keeps the old one, exactly.
PRICE_STEP = timedelta(hours=1)


def hour_floor(at: datetime) -> datetime:
    """The start of the UTC hour holding ``at``."""
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def next_hour(at: datetime) -> datetime:
    """The first whole UTC hour after ``at`` (``at`` itself when it is one)."""
    floor = hour_floor(at)
    return floor if floor == at else floor + PRICE_STEP


class PriceSet(RequestBody):
    """A new price for a service, or for one of its tools, from a whole UTC hour on.

    ``per_call`` is the price of one billable call; ``free_requests`` a FREEMIUM allowance of
    calls per user per calendar month (service-wide only). ``model`` is read from the two
    when not given: 0 per call is FREE, an allowance makes it FREEMIUM, else PAID.
    ``effective_from`` must be a whole hour in the future (default: the next whole hour),
    so that usage already metered keeps the price it was made at.
    """

    per_call: Decimal = Field(ge=0, max_digits=20, decimal_places=10)
    tool: str | None = Field(default=None, min_length=1, max_length=200)
    free_requests: int = Field(default=0, ge=0)
    model: PriceModel | None = None
    effective_from: datetime | None = None

    @property
    def resolved_model(self) -> PriceModel:
        """The model given, or read from the price and the allowance."""
        if self.model is not None:
            return self.model
        if not self.per_call:
            return PriceModel.FREE
        return PriceModel.FREEMIUM if self.free_requests else PriceModel.PAID


class PriceView(Dto):
    """One price of a service, in effect from ``effective_from`` until the next one.

    Attributes:
        tool: the tool it prices (``None``: every call the service's price covers).
        free_requests: calls per user per calendar month that cost nothing (FREEMIUM).
        set_by: who set it (``None`` for a price taken from the catalog).
    """

    service: str
    tool: str | None
    model: PriceModel
    per_call: Decimal
    free_requests: int
    effective_from: datetime
    currency: str
    set_by: str | None
    set_at: datetime


class UsageBreakdown(StrEnum):
    """What usage is grouped by."""

    USER = "user"
    TEAM = "team"
    DEPLOYMENT = "deployment"
    SERVICE = "service"
    TOOL = "tool"
    KEY = "key"  # the API key the calls were made with
    DAY = "day"
    MONTH = "month"


class UsageQuery(Dto):
    """Usage over a period, grouped one way, for the users the reader may see.

    ``start``/``end`` (``from``/``to`` in the CLI and the API) take a month (``2026-12``),
    a day (``2026-12-07``), an ISO 8601 time or a duration back from now (``7d``); the
    period is whole hours, from the hour holding ``start`` to the end of ``end`` (a day or
    month ``end`` is included whole). The default is this calendar month so far.
    ``user``/``team`` narrow it to a user or a team's members.
    """

    by: UsageBreakdown = UsageBreakdown.SERVICE
    start: str | None = None
    end: str | None = None
    user: str | None = Field(default=None, max_length=100)
    team: str | None = Field(default=None, max_length=100)


class UsageRow(Dto):
    """The billable calls of one group and what they cost.

    Attributes:
        key: the group (a user, team, ``owner/deployment``, service, tool or the method
            of a call that names no tool, an API key as ``owner prefix (name)``,
            ``YYYY-MM-DD`` or ``YYYY-MM``).
        service: the tool's service (``tool`` breakdowns only).
        requests: billable calls, failed ones included.
        errors: those that failed (never charged).
        free: successful calls that cost nothing (a FREE price, or a free allowance).
        charged: successful calls charged at their price.
        cost: what the charged calls cost, rounded once from the exact sum.
    """

    key: str
    service: str | None = None
    requests: int
    errors: int
    free: int
    charged: int
    cost: Decimal


class UsageReport(Dto):
    """Usage of a period by one breakdown, with the total (rounded from its own exact sum)."""

    by: UsageBreakdown
    start: datetime
    end: datetime
    currency: str
    rows: list[UsageRow]
    total: UsageRow
