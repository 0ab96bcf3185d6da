"""Quota DTOs: limits on billable calls of a user, team, API key or deployment, and their use."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import Field, model_validator

from mcp_console.schemas.base import Dto, RequestBody


class QuotaScope(StrEnum):
    """Whose calls a quota counts."""

    USER = "user"
    TEAM = "team"  # every member's calls together
    KEY = "key"  # the calls made with one API key
    DEPLOYMENT = "deployment"  # every caller's calls to one deployment


class QuotaKind(StrEnum):
    """What a quota limits."""

    REQUESTS = "requests"  # billable calls a deployment answered, failed ones included
    SPEND = "spend"  # what the calls cost, in the billing currency
    RATE = "rate"  # calls per second to each tool


class QuotaPeriod(StrEnum):
    """How long a quota's count lasts before it starts again (UTC days and months)."""

    SECOND = "second"
    DAY = "day"
    MONTH = "month"


# The periods each kind takes: spend is budgeted by the month, rates by the second.
PERIODS: dict[QuotaKind, tuple[QuotaPeriod, ...]] = {
    QuotaKind.REQUESTS: (QuotaPeriod.DAY, QuotaPeriod.MONTH),
    QuotaKind.SPEND: (QuotaPeriod.MONTH,),
    QuotaKind.RATE: (QuotaPeriod.SECOND,),
}


class QuotaSet(RequestBody):
    """A new limit, or a new figure for the limit of the same subject, kind, period and tool.

    ``subject`` names a user, a team, an API key (its prefix, as ``keys list`` shows it) or a
    deployment (``name`` of the caller's own, or ``owner/name``). ``allowed`` is a whole
    number of requests, an amount of money (spend), or calls per second (rate, bursts up to
    one second's worth). ``tool`` narrows a rate limit to one tool (default: each tool).
    """

    scope: QuotaScope
    subject: str = Field(min_length=1, max_length=200)
    kind: QuotaKind
    period: QuotaPeriod
    allowed: Decimal = Field(gt=0, max_digits=20, decimal_places=10)
    tool: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _fits(self) -> QuotaSet:
        if self.period not in PERIODS[self.kind]:
            takes = " or ".join(p.value for p in PERIODS[self.kind])
            raise ValueError(
                f"a {self.kind.value} quota is counted per {takes}, not per {self.period.value}"
            )
        if self.kind is QuotaKind.REQUESTS and self.allowed != self.allowed.to_integral_value():
            raise ValueError(
                f"a requests quota allows a whole number of requests, not {self.allowed}"
            )
        if self.tool is not None and self.kind is not QuotaKind.RATE:
            raise ValueError("only a rate limit names a tool")
        return self


class QuotaView(Dto):
    """A limit and how much of it is used now.

    Attributes:
        subject: the user, team, key prefix or ``owner/deployment`` it limits.
        tool: the one tool a rate limit is for (``None``: each tool, or not a rate limit).
        used: what the current period has used (requests, or an exact amount of money).
        in_flight: what calls under way have reserved and not yet settled.
        percent: ``used`` as a percentage of ``allowed``.
        resets_at: when the count starts again (``None`` for a rate limit).
        currency: the billing currency of a spend quota (``None`` for the others).
    """

    id: int
    scope: QuotaScope
    subject: str
    kind: QuotaKind
    period: QuotaPeriod
    allowed: Decimal
    tool: str | None
    used: Decimal
    in_flight: Decimal
    percent: float
    resets_at: datetime | None
    currency: str | None
    created_by: str | None
    created_at: datetime
