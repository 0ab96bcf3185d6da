"""The quota book's rules: what a call reserves, what it counts once over, and when limits reset."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from mcp_console.backend.billing.quota_book import Allowance, Limit, QuotaBook, period_bounds
from mcp_console.backend.billing.rating import Price, PriceTimeline
from mcp_console.backend.gateway.quota import QuotaRefusal
from mcp_console.backend.gateway.records import RequestRecord
from mcp_console.schemas.catalog import PriceModel
from mcp_console.schemas.quotas import QuotaKind, QuotaPeriod, QuotaScope

NOW = datetime(2026, 12, 7, 21, 30, tzinfo=UTC).timestamp()
BOB, CAROL = 7, 8
TEAM = 3
DEPLOYMENT, SERVICE = 21, 31
SINCE = datetime(1970, 1, 1, tzinfo=UTC)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def limit(
    quota_id: int,
    scope: QuotaScope,
    subject_id: int,
    kind: QuotaKind,
    period: QuotaPeriod,
    allowed: str,
    now: float = NOW,
) -> Limit:
    made = Limit(quota_id, scope, subject_id, f"#{subject_id}", kind, period, Decimal(allowed))
    made.starts, made.ends = period_bounds(period, now)
    return made


def done(user: int, *, status: int = 200, served: bool = True) -> RequestRecord:
    """The record of a finished call (``served=False``: the gateway answered it itself)."""
    return RequestRecord(
        deployment_id=DEPLOYMENT,
        instance_id="i-1" if served else None,
        user_id=user,
        method="tools/call",
        tool_name="echo",
        status=status,
        error=status >= 400,
        latency_ms=1.0,
        bytes_in=1,
        bytes_out=1,
        at=NOW,
    )


def loaded(
    limits: list[Limit], price: Price, clock: Clock, teams: dict[int, list[int]] | None = None
) -> QuotaBook:
    book = QuotaBook(clock=clock)
    book.load(
        limits,
        teams=teams or {},
        allowances={},
        services={DEPLOYMENT: SERVICE},
        timelines={SERVICE: PriceTimeline([], price)},
    )
    return book


def test_calls_in_flight_never_share_the_last_free_call_nor_the_budget() -> None:
    freemium = Price("", PriceModel.FREEMIUM, Decimal("0.01"), 3, SINCE)
    budget = limit(1, QuotaScope.USER, BOB, QuotaKind.SPEND, QuotaPeriod.MONTH, "0.02")
    book = loaded([budget], freemium, Clock(NOW))
    reached: list[Decimal] = []
    book._on_threshold = lambda _, level: reached.append(level)

    # Six calls at once: three take the free calls, two the budget, the sixth finds no room.
    holds = [book.reserve(BOB, None, DEPLOYMENT, "tools/call", "echo") for _ in range(5)]
    with pytest.raises(QuotaRefusal) as refused:
        book.reserve(BOB, None, DEPLOYMENT, "tools/call", "echo")
    for hold in holds:
        assert hold is not None
        book.settle(hold, done(BOB))

    assert refused.value.data["limit"] == "spend per month"
    # The budget stopped short of its figure: the refusal is what tells of 100 %.
    assert reached == [Decimal(1)]
    assert refused.value.data["used"] == "0.02"
    assert (budget.used, budget.reserved) == (Decimal("0.02"), Decimal(0))
    assert book.allowances[BOB, SERVICE] == Allowance(used=3, reserved=0)


def test_a_failed_call_counts_as_a_request_costs_nothing_and_a_refused_one_counts_nothing() -> None:
    paid = Price("", PriceModel.PAID, Decimal("0.5"), 0, SINCE)
    requests = limit(1, QuotaScope.USER, BOB, QuotaKind.REQUESTS, QuotaPeriod.DAY, "10")
    spend = limit(2, QuotaScope.USER, BOB, QuotaKind.SPEND, QuotaPeriod.MONTH, "10")
    book = loaded([requests, spend], paid, Clock(NOW))

    for record in (done(BOB), done(BOB, status=500), done(BOB, status=503, served=False)):
        hold = book.reserve(BOB, None, DEPLOYMENT, "tools/call", "echo")
        assert hold is not None
        book.settle(hold, record)

    assert (requests.used, spend.used) == (Decimal(2), Decimal("0.5"))
    assert (requests.reserved, spend.reserved) == (Decimal(0), Decimal(0))
    # The protocol around calls is never held.
    assert book.reserve(BOB, None, DEPLOYMENT, "tools/list", None) is None


def test_a_teams_limit_counts_its_members_together() -> None:
    free = Price("", PriceModel.FREE, Decimal(0), 0, SINCE)
    team = limit(1, QuotaScope.TEAM, TEAM, QuotaKind.REQUESTS, QuotaPeriod.DAY, "2")
    book = loaded([team], free, Clock(NOW), teams={BOB: [TEAM], CAROL: [TEAM]})

    for user in (BOB, CAROL):
        hold = book.reserve(user, None, DEPLOYMENT, "tools/call", "echo")
        assert hold is not None
        book.settle(hold, done(user))
    with pytest.raises(QuotaRefusal) as refused:
        book.reserve(BOB, None, DEPLOYMENT, "tools/call", "echo")
    # Someone outside the team is not held back by it.
    assert book.reserve(99, None, DEPLOYMENT, "tools/call", "echo") is None
    assert "team #3 is allowed 2 requests per day; 2 used" in refused.value.message
    assert refused.value.data["resetsAt"] == "2026-12-08T00:00:00Z"


def test_a_daily_limit_starts_again_with_the_day_and_announces_again() -> None:
    clock = Clock(NOW)
    free = Price("", PriceModel.FREE, Decimal(0), 0, SINCE)
    daily = limit(1, QuotaScope.USER, BOB, QuotaKind.REQUESTS, QuotaPeriod.DAY, "1")
    reached: list[Decimal] = []
    book = QuotaBook(on_threshold=lambda _, level: reached.append(level), clock=clock)
    book.load(
        [daily],
        teams={},
        allowances={},
        services={DEPLOYMENT: SERVICE},
        timelines={SERVICE: PriceTimeline([], free)},
    )
    hold = book.reserve(BOB, None, DEPLOYMENT, "tools/call", "echo")
    assert hold is not None
    book.settle(hold, done(BOB))
    with pytest.raises(QuotaRefusal):
        book.reserve(BOB, None, DEPLOYMENT, "tools/call", "echo")

    clock.now = daily.ends + 1
    hold = book.reserve(BOB, None, DEPLOYMENT, "tools/call", "echo")
    assert hold is not None
    book.settle(hold, done(BOB))

    assert daily.used == 1
    assert daily.starts == datetime(2026, 12, 8, tzinfo=UTC).timestamp()
    assert reached == [Decimal("0.8"), Decimal(1), Decimal("0.8"), Decimal(1)]


def test_the_book_holds_the_methods_billing_counts_and_no_other() -> None:
    free = Price("", PriceModel.FREE, Decimal(0), 0, SINCE)
    daily = limit(1, QuotaScope.USER, BOB, QuotaKind.REQUESTS, QuotaPeriod.DAY, "5")
    book = QuotaBook(clock=Clock(NOW), billable_methods=("tools/call",))
    book.load(
        [daily],
        teams={},
        allowances={},
        services={DEPLOYMENT: SERVICE},
        timelines={SERVICE: PriceTimeline([], free)},
    )

    assert book.reserve(BOB, None, DEPLOYMENT, "resources/read", None) is None
    assert book.reserve(BOB, None, DEPLOYMENT, "tools/call", "echo") is not None
