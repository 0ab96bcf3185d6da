"""A month's invoices computed from the meter's hourly rows: summed in SQL, rated once."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from mcp_console.backend.billing.money import ZERO, allocate, amount, shown_price
from mcp_console.backend.billing.periods import month_start, next_month
from mcp_console.backend.billing.prices import PriceService
from mcp_console.backend.billing.rating import MeteredCalls, PriceTimeline, rate
from mcp_console.backend.db.models import McpService, ServiceDeployment, Team, TeamMember, User
from mcp_console.backend.db.models_billing import ServicePrice, UsageHour
from mcp_console.backend.gateway.usage_ledger import NO_KEY
from mcp_console.schemas.catalog import PriceModel
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.invoices import InvoiceLine, InvoiceSubject, invoice_id

# Beyond this many ids a table is read whole (SQLite caps a statement's parameters).
_LONGEST_IN_LIST = 500
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# deployment id, the priced tool ("" for the service's own price), model, unit price
LineKey = tuple[int, str, str, Decimal]


def read_month(text: str) -> datetime:
    """The first hour (UTC) of the month ``text`` names (``2026-12``).

    Raises:
        Invalid: ``text`` is not a real month in that form (``field="month"``).
    """
    found = _MONTH.match(text.strip())
    if found is None or not 1 <= int(found[2]) <= 12 or int(found[1]) < 1970:
        raise Invalid(f"month {text!r} is not a month such as 2026-12", field="month")
    return datetime(int(found[1]), int(found[2]), 1, tzinfo=UTC)


def month_label(first: datetime) -> str:
    """``2026-12`` for a time in December 2026 (UTC)."""
    return f"{month_start(first):%Y-%m}"


@dataclass(slots=True)
class LineTally:
    """A line's calls added up, its cost exact until the invoice is rounded."""

    requests: int = 0
    errors: int = 0
    free: int = 0
    charged: int = 0
    cost: Decimal = ZERO

    def merge(self, other: LineTally) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.free += other.free
        self.charged += other.charged
        self.cost += other.cost


@dataclass(slots=True)
class BuiltInvoice:
    """One subject's invoice for a month, as computed (not yet a DTO or a row)."""

    id: str
    kind: InvoiceSubject
    subject_id: int
    subject: str
    requests: int
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    lines: list[InvoiceLine] = field(default_factory=list)


@dataclass(slots=True)
class _Names:
    deployments: dict[int, tuple[str, str]]
    users: dict[int, str]
    teams: dict[int, str]


async def build_invoices(
    session: AsyncSession,
    prices: PriceService,
    first: datetime,
    *,
    users: Collection[int] | None = None,
    teams: Collection[int] | None = None,
) -> list[BuiltInvoice]:
    """The invoices of the month starting at ``first``: ``users``' and ``teams``' (``None``:
    everyone's and every team's), of those with billable calls in it.

    A team's invoice holds its members' calls, priced as on their own invoices. The calls
    are summed in the database per user, deployment, method, tool and price period (the
    hours between two price changes of any service), so the work in Python grows with the
    number of lines, not of hours; ``rating.rate`` then prices each sum. A FREEMIUM
    allowance goes to the month's calls in the order of its price periods, within one by
    deployment (the amount is the same whichever calls of a period it goes to: they have
    one price).
    """
    last = next_month(first)
    members = await _members(session, teams)
    callers = None if users is None else {*users, *(u for ms in members.values() for u in ms)}
    calls = await summed_calls(session, first, last, callers)
    timelines = await prices.timelines(session, {c.service_id for c in calls})
    billed = {c.user_id for c in calls}
    wanted = billed if users is None else set(users) & billed
    names = await _names(session, wanted, set(members))
    # Pricing and adding up is work for the CPU alone: on a thread, so that a console
    # sharing this loop keeps drawing while a month of many users is closed.
    return await asyncio.to_thread(
        _build, month_label(first), calls, timelines, wanted, members, names, prices.currency
    )


def _build(
    month: str,
    calls: list[MeteredCalls],
    timelines: Mapping[int, PriceTimeline],
    users: Collection[int],
    members: Mapping[int, list[int]],
    names: _Names,
    currency: str,
) -> list[BuiltInvoice]:
    """``users``' invoices, then each team's of ``members`` with calls, priced and rounded."""
    by_user: dict[int, dict[LineKey, LineTally]] = {}
    for rated in rate(calls, timelines):
        c = rated.calls
        price = timelines[c.service_id].price(c.method, c.tool, c.hour)
        key = (c.deployment_id, price.tool, price.model.value, price.per_call)
        tally = by_user.setdefault(c.user_id, {}).setdefault(key, LineTally())
        tally.merge(LineTally(c.requests, c.errors, rated.free, rated.charged, rated.cost))
    built = [
        _invoice(
            month, InvoiceSubject.USER, user, names.users[user], by_user[user], names, currency
        )
        for user in sorted(users)
    ]
    for team, team_members in sorted(members.items()):
        lines: dict[LineKey, LineTally] = {}
        for user in team_members:
            for key, tally in by_user.get(user, {}).items():
                lines.setdefault(key, LineTally()).merge(tally)
        if lines:
            built.append(
                _invoice(
                    month, InvoiceSubject.TEAM, team, names.teams[team], lines, names, currency
                )
            )
    return built


def _invoice(
    month: str,
    kind: InvoiceSubject,
    subject_id: int,
    subject: str,
    tallies: dict[LineKey, LineTally],
    names: _Names,
    currency: str,
) -> BuiltInvoice:
    def order(item: tuple[LineKey, LineTally]) -> tuple[str, str, str, Decimal]:
        (deployment, tool, _, unit), _tally = item
        return (*names.deployments[deployment], tool, unit)

    items = sorted(tallies.items(), key=order)
    amounts = allocate([t.cost for _, t in items], currency)
    lines = [
        InvoiceLine(
            deployment=names.deployments[deployment][0],
            service=names.deployments[deployment][1],
            tool=tool or None,
            model=PriceModel(model),
            unit_price=shown_price(unit),
            requests=t.requests,
            errors=t.errors,
            free=t.free,
            charged=t.charged,
            amount=line_amount,
        )
        for ((deployment, tool, model, unit), t), line_amount in zip(items, amounts, strict=True)
    ]
    subtotal = amount(sum((t.cost for _, t in items), ZERO), currency)
    tax = amount(ZERO, currency)
    return BuiltInvoice(
        id=invoice_id(month, kind, subject_id),
        kind=kind,
        subject_id=subject_id,
        subject=subject,
        requests=sum(line.requests for line in lines),
        subtotal=subtotal,
        tax=tax,
        total=subtotal + tax,
        lines=lines,
    )


async def _members(session: AsyncSession, teams: Collection[int] | None) -> dict[int, list[int]]:
    stmt = select(TeamMember.team_id, TeamMember.user_id)
    if teams is not None:
        if not teams:
            return {}
        stmt = stmt.where(TeamMember.team_id.in_(sorted(teams)))
    members: dict[int, list[int]] = {}
    for team, user in await session.execute(stmt):
        members.setdefault(team, []).append(user)
    return members


async def summed_calls(
    session: AsyncSession,
    first: datetime,
    last: datetime,
    users: Collection[int] | None,
    *,
    bounds: Collection[datetime] = (),
    by_key: bool = False,
) -> list[MeteredCalls]:
    """The calls of ``[first, last)`` summed per user, deployment, method, tool and price
    period (and API key, ``by_key``); each sum is dated at its period's first hour (so it is
    priced at the price of all its hours). ``bounds`` split periods further (whole hours)."""
    changes = await session.scalars(
        select(ServicePrice.effective_from)
        .distinct()
        .where(ServicePrice.effective_from > first, ServicePrice.effective_from < last)
    )
    bounds = sorted({*changes, *(b for b in bounds if first < b < last)})
    starts = [first, *bounds]
    period = (
        case(
            *((UsageHour.hour < bound, literal(i)) for i, bound in enumerate(bounds)),
            else_=literal(len(bounds)),
        )
        if bounds
        else literal(0, Integer)
    ).label("period")
    stmt = (
        select(
            UsageHour.deployment_id,
            ServiceDeployment.service_id,
            UsageHour.user_id,
            period,
            UsageHour.method,
            UsageHour.tool,
            func.sum(UsageHour.request_count),
            func.sum(UsageHour.error_count),
            UsageHour.key_id if by_key else literal(NO_KEY, Integer),
        )
        .join(ServiceDeployment, ServiceDeployment.id == UsageHour.deployment_id)
        .where(UsageHour.hour >= first, UsageHour.hour < last)
        .group_by(
            UsageHour.user_id,
            UsageHour.deployment_id,
            ServiceDeployment.service_id,
            period,
            UsageHour.method,
            UsageHour.tool,
            *((UsageHour.key_id,) if by_key else ()),
        )
    )
    if users is not None:
        if not users:
            return []
        stmt = stmt.where(UsageHour.user_id.in_(sorted(users)))
    return [
        MeteredCalls(
            deployment,
            service,
            user,
            starts[int(p)],
            method,
            tool,
            int(calls),
            int(errors),
            int(key),
        )
        for deployment, service, user, p, method, tool, calls, errors, key in await session.execute(
            stmt
        )
    ]


async def _names(session: AsyncSession, users: Collection[int], teams: Collection[int]) -> _Names:
    """The names an invoice copies: every deployment's, and the users' and teams' billed."""
    deployments = await session.execute(
        select(ServiceDeployment.id, User.name, ServiceDeployment.deployment_name, McpService.name)
        .join(User, User.id == ServiceDeployment.user_id)
        .join(McpService, McpService.id == ServiceDeployment.service_id)
    )
    return _Names(
        deployments={d: (f"{owner}/{name}", service) for d, owner, name, service in deployments},
        users=await _named(session, User.id, User.name, users),
        teams=await _named(session, Team.id, Team.name, teams),
    )


async def _named(
    session: AsyncSession, id_column: Any, name_column: Any, ids: Iterable[int]
) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    stmt = select(id_column, name_column)
    # Everyone's (a month's close) is read whole rather than through a long IN list.
    if len(wanted) <= _LONGEST_IN_LIST:
        stmt = stmt.where(id_column.in_(wanted))
    return {int(i): str(n) for i, n in await session.execute(stmt)}
