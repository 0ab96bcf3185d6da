"""UsageService: the meter's hourly rows read back, priced, grouped, each reader seeing theirs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.billing.money import ZERO, amount
from mcp_console.backend.billing.periods import month_start, period
from mcp_console.backend.billing.prices import Clock, PriceService, utc_now
from mcp_console.backend.billing.rating import MeteredCalls, RatedCalls, rate
from mcp_console.backend.db.models import (
    ApiKey,
    McpService,
    ServiceDeployment,
    Team,
    TeamMember,
    User,
)
from mcp_console.backend.db.models_billing import UsageHour
from mcp_console.backend.gateway.usage_ledger import NO_KEY
from mcp_console.schemas.billing import UsageBreakdown, UsageQuery, UsageReport, UsageRow
from mcp_console.schemas.errors import Forbidden, NotFound, revalidated
from mcp_console.schemas.users import Principal

Flush = Callable[[], Awaitable[Any]]
NO_TEAM = "(no team)"
# Calls made without a key of their own (the console's), or before keys were metered.
NO_KEY_NAME = "(no key)"


async def _nothing_to_flush() -> None:
    return None


@dataclass(slots=True)
class Tally:
    """Rated calls added up: counts, and their cost exact until a row is made of it."""

    service: str | None = None
    requests: int = 0
    errors: int = 0
    free: int = 0
    charged: int = 0
    cost: Decimal = ZERO  # exact until shown

    def add(self, rated: RatedCalls) -> None:
        self.requests += rated.calls.requests
        self.errors += rated.calls.errors
        self.free += rated.free
        self.charged += rated.charged
        self.cost += rated.cost

    def row(self, key: str, currency: str) -> UsageRow:
        return UsageRow(
            key=key,
            service=self.service,
            requests=self.requests,
            errors=self.errors,
            free=self.free,
            charged=self.charged,
            cost=amount(self.cost, currency),
        )


@dataclass(slots=True)
class _Names:
    users: dict[int, str] = field(default_factory=dict)
    deployments: dict[int, str] = field(default_factory=dict)
    services: dict[int, str] = field(default_factory=dict)
    teams: dict[int, list[str]] = field(default_factory=dict)
    keys: dict[int, str] = field(default_factory=dict)


class UsageService:
    """Billable usage by user, team, deployment, service, tool, day or month, priced.

    Each call is priced by ``PriceService``'s timeline at its hour (see ``rating.rate``);
    amounts are exact until each row and the total are rounded once (``money.amount``).
    Who sees what: an admin everyone's usage; anyone else their own calls and those of the
    members of the teams they maintain; a key limited to some deployments only their calls.

    Args:
        sessions: the database.
        prices: the price timelines.
        flush: writes what the meter holds (so a reader sees their last calls).
        clock: the time now.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        prices: PriceService,
        flush: Flush = _nothing_to_flush,
        clock: Clock = utc_now,
    ) -> None:
        self._sessions = sessions
        self._prices = prices
        self._flush = flush
        self._clock = clock

    async def usage(self, actor: Principal, query: UsageQuery) -> UsageReport:
        """Usage of ``query``'s period grouped by ``query.by``, for the users ``actor`` sees.

        Raises:
            Invalid: a bad time or period (``field`` names it).
            NotFound: ``query.user`` or ``query.team`` does not exist.
            Forbidden: ``actor`` may not read that user's or team's usage.
        """
        query = revalidated(query)
        first, last = period(query.start, query.end, self._clock())
        await self._flush()
        async with self._sessions() as session:
            users = await _readable_users(session, actor, query)
            # The allowance of a month counts its calls from the month's start.
            calls = await metered_calls(session, month_start(first), last, users=users)
            timelines = await self._prices.timelines(session, {c.service_id for c in calls})
            rated = [
                r
                for r in rate(calls, timelines)
                if first <= r.calls.hour < last and actor.in_scope(r.calls.deployment_id)
            ]
            names = await _names(session, rated, query.by)
        team = query.team.strip() if query.team and query.by is UsageBreakdown.TEAM else None
        groups: dict[tuple[str, str], Tally] = {}
        total = Tally()
        for r in rated:
            total.add(r)
            for key in _keys(r, query.by, names):
                if team is not None and key[1] != team:
                    continue
                group = groups.get(key)
                if group is None:
                    group = groups[key] = Tally(service=key[0] or None)
                group.add(r)
        currency = self._prices.currency
        return UsageReport(
            by=query.by,
            start=first,
            end=last,
            currency=currency,
            rows=[groups[key].row(key[1], currency) for key in sorted(groups)],
            total=total.row("total", currency),
        )


def _keys(r: RatedCalls, by: UsageBreakdown, names: _Names) -> Iterable[tuple[str, str]]:
    """The groups a row counts in: ``(service, key)``, the service only for tools."""
    c = r.calls
    if by is UsageBreakdown.USER:
        return [("", names.users[c.user_id])]
    if by is UsageBreakdown.TEAM:
        return [("", team) for team in names.teams.get(c.user_id) or [NO_TEAM]]
    if by is UsageBreakdown.DEPLOYMENT:
        return [("", names.deployments[c.deployment_id])]
    if by is UsageBreakdown.SERVICE:
        return [("", names.services[c.service_id])]
    if by is UsageBreakdown.TOOL:
        return [(names.services[c.service_id], c.tool or c.method)]
    if by is UsageBreakdown.KEY:
        return [("", names.keys.get(c.key_id, NO_KEY_NAME))]
    if by is UsageBreakdown.DAY:
        return [("", f"{c.hour:%Y-%m-%d}")]
    return [("", f"{c.hour:%Y-%m}")]


async def _readable_users(
    session: AsyncSession, actor: Principal, query: UsageQuery
) -> Collection[int] | None:
    """The callers whose usage ``actor`` reads (``None``: everyone's, for an admin)."""
    maintained = set(
        await session.scalars(
            select(TeamMember.team_id).where(
                TeamMember.user_id == actor.user_id, TeamMember.role == "maintainer"
            )
        )
    )
    if query.team:
        team_id = await session.scalar(select(Team.id).where(Team.name == query.team.strip()))
        if team_id is None:
            raise NotFound(f"no team named {query.team!r}", field="team")
        if not actor.is_admin and team_id not in maintained:
            raise Forbidden(f"only the maintainers of team {query.team} and admins read its usage")
        members = set(
            await session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team_id))
        )
    else:
        members = None
    if query.user:
        user_id = await session.scalar(select(User.id).where(User.name == query.user.strip()))
        if user_id is None:
            raise NotFound(f"no user named {query.user!r}", field="user")
        if not actor.is_admin and user_id != actor.user_id:
            their_teams = set(
                await session.scalars(
                    select(TeamMember.team_id).where(TeamMember.user_id == user_id)
                )
            )
            if not their_teams & maintained:
                raise Forbidden(
                    f"{actor.name} may read their own usage and their teams' members' "
                    f"(as a maintainer), not {query.user}'s"
                )
        return {user_id} & members if members is not None else {user_id}
    if members is not None:
        return members
    if actor.is_admin:
        return None
    readable = {actor.user_id}
    if maintained:
        readable |= set(
            await session.scalars(
                select(TeamMember.user_id).where(TeamMember.team_id.in_(sorted(maintained)))
            )
        )
    return readable


async def metered_calls(
    session: AsyncSession,
    first: datetime,
    last: datetime,
    *,
    users: Collection[int] | None = None,
    services: Collection[int] | None = None,
) -> list[MeteredCalls]:
    """The meter's rows of the hours ``[first, last)``, of ``users``' calls and to ``services``'
    deployments (``None``: everyone's, every service's)."""
    stmt = (
        select(
            UsageHour.deployment_id,
            ServiceDeployment.service_id,
            UsageHour.user_id,
            UsageHour.hour,
            UsageHour.method,
            UsageHour.tool,
            UsageHour.request_count,
            UsageHour.error_count,
            UsageHour.key_id,
        )
        .join(ServiceDeployment, ServiceDeployment.id == UsageHour.deployment_id)
        .where(UsageHour.hour >= first, UsageHour.hour < last)
    )
    if users is not None:
        if not users:
            return []
        stmt = stmt.where(UsageHour.user_id.in_(sorted(users)))
    if services is not None:
        if not services:
            return []
        stmt = stmt.where(ServiceDeployment.service_id.in_(sorted(services)))
    return [MeteredCalls(*row) for row in await session.execute(stmt)]


async def _names(session: AsyncSession, rated: list[RatedCalls], by: UsageBreakdown) -> _Names:
    """The names a breakdown shows, for the rows it has."""
    names = _Names()
    users = {r.calls.user_id for r in rated}
    if by is UsageBreakdown.USER:
        names.users = await _named(session, User.id, User.name, users)
    elif by is UsageBreakdown.TEAM and users:
        teams = await session.execute(
            select(TeamMember.user_id, Team.name)
            .join(Team, Team.id == TeamMember.team_id)
            .where(TeamMember.user_id.in_(sorted(users)))
        )
        for user_id, team in teams:
            names.teams.setdefault(user_id, []).append(team)
    elif by is UsageBreakdown.DEPLOYMENT:
        deployments = sorted({r.calls.deployment_id for r in rated})
        owned = await session.execute(
            select(ServiceDeployment.id, User.name, ServiceDeployment.deployment_name)
            .join(User, User.id == ServiceDeployment.user_id)
            .where(ServiceDeployment.id.in_(deployments))
        )
        names.deployments = {d: f"{owner}/{name}" for d, owner, name in owned}
    elif by is UsageBreakdown.KEY:
        keys = {r.calls.key_id for r in rated} - {NO_KEY}
        found = await session.execute(
            select(ApiKey.id, User.name, ApiKey.prefix, ApiKey.label)
            .join(User, User.id == ApiKey.user_id)
            .where(ApiKey.id.in_(sorted(keys)))
        )
        # Whose key, and which: its prefix, and its name where it has one.
        names.keys = {
            k: f"{owner} {prefix}" + (f" ({label})" if label else "")
            for k, owner, prefix, label in found
        }
    elif by in (UsageBreakdown.SERVICE, UsageBreakdown.TOOL):
        services = {r.calls.service_id for r in rated}
        names.services = await _named(session, McpService.id, McpService.name, services)
    return names


async def _named(
    session: AsyncSession, id_column: Any, name_column: Any, ids: Collection[int]
) -> dict[int, str]:
    rows = await session.execute(select(id_column, name_column).where(id_column.in_(sorted(ids))))
    return {int(row[0]): str(row[1]) for row in rows}
