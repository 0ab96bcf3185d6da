"""QuotaService: limits set, listed and removed, and the gateway's QuotaBook loaded from usage."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.billing.invoice_build import summed_calls
from mcp_console.backend.billing.money import ZERO, shown_price
from mcp_console.backend.billing.periods import month_start, next_month
from mcp_console.backend.billing.prices import PriceService
from mcp_console.backend.billing.quota_book import (
    SECONDS_PER_DAY,
    Allowance,
    Limit,
    QuotaBook,
    period_bounds,
)
from mcp_console.backend.billing.rating import (
    Allowances,
    MeteredCalls,
    PriceTimeline,
    RatedCalls,
    rate,
)
from mcp_console.backend.db.models import ApiKey, ServiceDeployment, Team, TeamMember, User
from mcp_console.backend.db.models_billing import ALL_TOOLS, Quota
from mcp_console.backend.events import EventBus, acted_by
from mcp_console.backend.gateway.usage_ledger import SECONDS_PER_HOUR, DailyUsage, UsageKey
from mcp_console.schemas.catalog import PriceModel
from mcp_console.schemas.errors import Forbidden, Invalid, NotFound, revalidated
from mcp_console.schemas.quotas import QuotaKind, QuotaPeriod, QuotaScope, QuotaSet, QuotaView
from mcp_console.schemas.users import Principal

logger = logging.getLogger(__name__)

Pending = Callable[[], Mapping[UsageKey, DailyUsage]]
"""The usage the meter holds and has not written yet (read without awaiting)."""
Paused = Callable[[], AbstractAsyncContextManager[Any]]
"""Holds the meter's writes off while written and pending usage are read as one."""
# Backend events after which the book is loaded again: who is in a team, which service a
# deployment runs, what a service costs.
RELOAD_ON = frozenset({"team.changed", "deployment.created", "price.set"})


@contextlib.asynccontextmanager
async def _nothing_paused() -> AsyncIterator[None]:
    yield


def _no_pending() -> dict[UsageKey, DailyUsage]:
    return {}


class QuotaService:
    """Quotas of users, teams, API keys and deployments, enforced by the gateway's book.

    Admins set any quota; a deployment's owner sets its deployment's, a team's maintainer
    the team's, and anyone the quotas of their own API keys (to hold an agent back). Each
    reads the quotas over their own calls and those they may set.

    Args:
        sessions: the database.
        prices: the price timelines a spend budget is counted with.
        book: the gateway's quota check, loaded here.
        events: announces changes (and thresholds reached); changes of teams, deployments
            and prices load the book again.
        pending: the meter's unwritten usage (so the book counts every call once).
        paused: holds the meter's writes off while usage is read.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        prices: PriceService,
        book: QuotaBook,
        events: EventBus,
        *,
        pending: Pending = _no_pending,
        paused: Paused = _nothing_paused,
    ) -> None:
        self._sessions = sessions
        self._prices = prices
        self.book = book
        self._events = events
        self._pending = pending
        self._paused = paused
        self._lock = asyncio.Lock()
        self._reload: asyncio.Task[None] | None = None
        self._again = False
        events.listen(self._on_event)

    # -- reading and changing quotas -------------------------------------------------------

    async def set_quota(self, actor: Principal, new: QuotaSet) -> QuotaView:
        """Set a limit (or a new figure for the same subject, kind, period and tool).

        Raises:
            Invalid: a figure that does not fit its kind (``field`` names it).
            NotFound: no such user, team, key or deployment (``field="subject"``).
            Forbidden: ``actor`` may not limit that subject.
        """
        new = revalidated(new)
        tool = new.tool.strip() if new.tool else ALL_TOOLS
        if new.tool is not None and not tool:
            raise Invalid("tool: a tool's name, or none for each tool", field="tool")
        async with self._sessions.begin() as session:
            subject_id, name = await _subject(session, actor, new.scope, new.subject.strip())
            await _may_set(session, actor, new.scope, subject_id, name)
            row = await session.scalar(
                select(Quota).where(
                    Quota.scope == new.scope.value,
                    Quota.subject_id == subject_id,
                    Quota.kind == new.kind.value,
                    Quota.period == new.period.value,
                    Quota.tool == tool,
                )
            )
            if row is None:
                row = Quota(
                    scope=new.scope.value,
                    subject_id=subject_id,
                    kind=new.kind.value,
                    period=new.period.value,
                    tool=tool,
                    created_by=actor.user_id,
                    created_at=datetime.now(UTC),
                )
                session.add(row)
            row.allowed = new.allowed
            await session.flush()
            quota_id = row.id
        self._events.publish(
            {
                "type": "quota.set",
                "quota": quota_id,
                "scope": new.scope.value,
                "subject": name,
                "kind": new.kind.value,
                "period": new.period.value,
                "allowed": str(new.allowed),
                **acted_by(actor),
            }
        )
        await self.reload()
        return next(v for v in await self.list_quotas(actor) if v.id == quota_id)

    async def remove_quota(self, actor: Principal, quota_id: int) -> None:
        """Remove a limit.

        Raises:
            NotFound: no quota ``quota_id`` that ``actor`` sees.
            Forbidden: ``actor`` may read it but not remove it.
        """
        async with self._sessions.begin() as session:
            row = await session.get(Quota, quota_id)
            readable = await _readable(session, actor)
            if row is None or not readable(row):
                raise NotFound(f"no quota {quota_id}", field="id")
            name = (await _names(session, [row]))[row.scope, row.subject_id]
            await _may_set(session, actor, QuotaScope(row.scope), row.subject_id, name)
            scope = row.scope
            await session.delete(row)
        self._events.publish(
            {
                "type": "quota.removed",
                "quota": quota_id,
                "scope": scope,
                "subject": name,
                **acted_by(actor),
            }
        )
        await self.reload()

    async def list_quotas(self, actor: Principal) -> list[QuotaView]:
        """The quotas over ``actor``'s calls and those ``actor`` may set, with their use now."""
        async with self._sessions() as session:
            readable = await _readable(session, actor)
            rows = [
                r for r in await session.scalars(select(Quota).order_by(Quota.id)) if readable(r)
            ]
            names = await _names(session, rows)
            setters = await _user_names(session, {r.created_by for r in rows if r.created_by})
        return [self._view(r, names[r.scope, r.subject_id], setters) for r in rows]

    def _view(self, row: Quota, subject: str, setters: Mapping[int, str]) -> QuotaView:
        kind = QuotaKind(row.kind)
        limit = self.book.limits.get(row.id)
        used = limit.used if limit is not None else ZERO
        in_flight = limit.reserved if limit is not None else ZERO
        ends = limit.ends if limit is not None else 0.0
        return QuotaView(
            id=row.id,
            scope=QuotaScope(row.scope),
            subject=subject,
            kind=kind,
            period=QuotaPeriod(row.period),
            allowed=shown_price(row.allowed),
            tool=row.tool or None,
            used=used,
            in_flight=in_flight,
            percent=float(used / row.allowed * 100) if kind is not QuotaKind.RATE else 0.0,
            resets_at=datetime.fromtimestamp(ends, UTC) if 0 < ends < float("inf") else None,
            currency=self._prices.currency if kind is QuotaKind.SPEND else None,
            created_by=setters.get(row.created_by) if row.created_by else None,
            created_at=row.created_at,
        )

    # -- loading the book ------------------------------------------------------------------

    def _on_event(self, event: dict[str, Any]) -> None:
        if event.get("type") in RELOAD_ON and self.book.limits:
            self.reload_soon()

    def reload_soon(self) -> None:
        """Load the book again in the background (once more if a load is under way)."""
        if self._reload is not None and not self._reload.done():
            self._again = True
            return
        self._reload = asyncio.get_running_loop().create_task(self._reload_loop())

    async def _reload_loop(self) -> None:
        while True:
            self._again = False
            try:
                await self.reload()
            except Exception:
                logger.exception("quotas: loading what limits have used failed")
            if not self._again:
                return

    async def aclose(self) -> None:
        """Wait for a load under way."""
        if self._reload is not None:
            with contextlib.suppress(Exception):
                await self._reload

    async def reload(self) -> None:
        """Load every limit and what it has used in its period, from the usage written and
        the meter's unwritten usage read as one (no call counted twice or missed)."""
        async with self._lock:
            now = self.book.now()
            at = datetime.fromtimestamp(now, UTC)
            async with self._paused(), self._sessions() as session:
                rows = list(await session.scalars(select(Quota)))
                if not rows:
                    self.book.load([], teams={}, allowances={}, services={}, timelines={})
                    return
                names = await _names(session, rows)
                teams: dict[int, list[int]] = {}
                for team_id, user_id in await session.execute(
                    select(TeamMember.team_id, TeamMember.user_id)
                ):
                    teams.setdefault(user_id, []).append(team_id)
                services: dict[int, int] = {
                    row.id: row.service_id
                    for row in await session.execute(
                        select(ServiceDeployment.id, ServiceDeployment.service_id)
                    )
                }
                timelines = await self._prices.timelines(session, set(services.values()))
                limits = [_limit(r, names[r.scope, r.subject_id], now) for r in rows]
                # Summed per price period (and API key), split at today's start for the
                # daily limits: a few rows per caller and deployment, however many hours.
                today = datetime.fromtimestamp(now - now % SECONDS_PER_DAY, UTC)
                first = month_start(at)
                calls = await summed_calls(
                    session, first, next_month(at), None, bounds=[today], by_key=True
                )
                # Pricing the written month is work for the CPU alone: on a thread, while
                # the meter's writes still wait (the calls they hold are read below).
                counted: Allowances = {}
                allowances = await asyncio.to_thread(
                    _figures, limits, teams, calls, timelines, counted
                )
                # The meter's unwritten usage, priced after the written (the allowances go
                # on from there) and loaded in the same step: no call counted twice or missed.
                unwritten = _figures(
                    limits, teams, _unwritten(self._pending(), services), timelines, counted
                )
                for key, more in unwritten.items():
                    allowances.setdefault(key, Allowance()).used += more.used
                self.book.load(
                    limits,
                    teams=teams,
                    allowances=allowances,
                    services=services,
                    timelines=timelines,
                )


def _figures(
    limits: list[Limit],
    teams: Mapping[int, list[int]],
    calls: list[MeteredCalls],
    timelines: Mapping[int, PriceTimeline],
    counted: Allowances,
) -> dict[tuple[int, int], Allowance]:
    """Price ``calls`` (going on from ``counted``), add them to the limits over them, and
    return the FREEMIUM allowances they used."""
    rated = rate(calls, timelines, counted)
    _count(limits, teams, rated)
    return _allowances(rated, timelines)


def _limit(row: Quota, subject: str, now: float) -> Limit:
    period = QuotaPeriod(row.period)
    starts, ends = period_bounds(period, now)
    return Limit(
        id=row.id,
        scope=QuotaScope(row.scope),
        subject_id=row.subject_id,
        subject=subject,
        kind=QuotaKind(row.kind),
        period=period,
        allowed=Decimal(row.allowed),
        tool=row.tool,
        starts=starts,
        ends=ends,
    )


def _count(limits: list[Limit], teams: Mapping[int, list[int]], rated: list[RatedCalls]) -> None:
    """Add each rated row to the limits over it, within their periods."""
    by: dict[tuple[QuotaScope, int], list[Limit]] = {}
    for limit in limits:
        if limit.kind is not QuotaKind.RATE:
            by.setdefault((limit.scope, limit.subject_id), []).append(limit)
    if not by:
        return
    for r in rated:
        c = r.calls
        over = [
            *by.get((QuotaScope.USER, c.user_id), ()),
            *by.get((QuotaScope.KEY, c.key_id), ()),
            *by.get((QuotaScope.DEPLOYMENT, c.deployment_id), ()),
        ]
        for team_id in teams.get(c.user_id, ()):
            over.extend(by.get((QuotaScope.TEAM, team_id), ()))
        at = c.hour.timestamp()
        for limit in over:
            if at < limit.starts:
                continue
            limit.used += Decimal(c.requests) if limit.kind is QuotaKind.REQUESTS else r.cost


def _allowances(
    rated: list[RatedCalls], timelines: Mapping[int, PriceTimeline]
) -> dict[tuple[int, int], Allowance]:
    """FREEMIUM allowance each user has used of each service this month (as ``rate``
    counts it: successful calls at the service's own FREEMIUM price)."""
    used: dict[tuple[int, int], Allowance] = {}
    for r in rated:
        c = r.calls
        price = timelines[c.service_id].price(c.method, c.tool, c.hour)
        if price.model is PriceModel.FREEMIUM and not price.tool:
            allowance = used.get((c.user_id, c.service_id))
            if allowance is None:
                allowance = used[c.user_id, c.service_id] = Allowance()
            allowance.used += c.requests - c.errors
    return used


def _unwritten(
    pending: Mapping[UsageKey, DailyUsage], services: Mapping[int, int]
) -> list[MeteredCalls]:
    """The meter's unwritten usage as the rows it will write."""
    return [
        MeteredCalls(
            key.deployment_id,
            services[key.deployment_id],
            key.user_id,
            datetime.fromtimestamp(call.hour * SECONDS_PER_HOUR, UTC),
            call.method,
            call.tool or ALL_TOOLS,
            requests,
            errors,
            call.key,
        )
        for key, usage in pending.items()
        if key.deployment_id in services
        for call, (requests, errors) in usage.calls.items()
    ]


# -- subjects and rights -------------------------------------------------------------------


async def _subject(
    session: AsyncSession, actor: Principal, scope: QuotaScope, text: str
) -> tuple[int, str]:
    """The id of the user, team, key (by prefix) or deployment ``text`` names, and its name."""
    found: int | None
    if scope is QuotaScope.USER:
        found = await session.scalar(select(User.id).where(User.name == text))
    elif scope is QuotaScope.TEAM:
        found = await session.scalar(select(Team.id).where(Team.name == text))
    elif scope is QuotaScope.KEY:
        # A key's prefix, or the name (label) of one of the actor's own keys.
        named = or_(
            ApiKey.prefix == text, and_(ApiKey.label == text, ApiKey.user_id == actor.user_id)
        )
        found = await session.scalar(
            select(ApiKey.id).where(named, ApiKey.revoked_at.is_(None)).limit(1)
        )
    else:
        owner, _, name = text.rpartition("/")
        stmt = select(ServiceDeployment.id, User.name).join(
            User, User.id == ServiceDeployment.user_id
        )
        stmt = stmt.where(ServiceDeployment.deployment_name == name)
        stmt = stmt.where(User.name == owner) if owner else stmt.where(User.id == actor.user_id)
        hit = (await session.execute(stmt)).first()
        if hit is not None:
            return hit[0], f"{hit[1]}/{name}"
        found = None
    if found is None:
        what = "live API key with prefix or name" if scope is QuotaScope.KEY else scope.value
        raise NotFound(f"no {what} {text!r}", field="subject")
    return found, text


async def _may_set(
    session: AsyncSession, actor: Principal, scope: QuotaScope, subject_id: int, name: str
) -> None:
    if actor.is_admin:
        return
    if scope is QuotaScope.DEPLOYMENT:
        owner = await session.scalar(
            select(ServiceDeployment.user_id).where(ServiceDeployment.id == subject_id)
        )
        if owner == actor.user_id:
            return
        raise Forbidden(f"only the owner of {name} or an admin limits its calls")
    if scope is QuotaScope.KEY:
        owner = await session.scalar(select(ApiKey.user_id).where(ApiKey.id == subject_id))
        if owner == actor.user_id:
            return
        raise Forbidden(f"only the key's owner or an admin limits key {name}")
    if scope is QuotaScope.TEAM:
        role = await session.scalar(
            select(TeamMember.role).where(
                TeamMember.team_id == subject_id, TeamMember.user_id == actor.user_id
            )
        )
        if role == "maintainer":
            return
        raise Forbidden(f"only a maintainer of team {name} or an admin limits its calls")
    raise Forbidden(f"only an admin limits a user's calls ({name})")


async def _readable(session: AsyncSession, actor: Principal) -> Callable[[Quota], bool]:
    """Which quotas ``actor`` reads: all for an admin; else those over their own calls and
    those they may set."""
    if actor.is_admin:
        return lambda row: True
    teams = set(
        await session.scalars(select(TeamMember.team_id).where(TeamMember.user_id == actor.user_id))
    )
    keys = set(await session.scalars(select(ApiKey.id).where(ApiKey.user_id == actor.user_id)))
    owned = set(
        await session.scalars(
            select(ServiceDeployment.id).where(ServiceDeployment.user_id == actor.user_id)
        )
    )
    mine = {
        QuotaScope.USER.value: {actor.user_id},
        QuotaScope.TEAM.value: teams,
        QuotaScope.KEY.value: keys,
        QuotaScope.DEPLOYMENT.value: owned,
    }
    return lambda row: row.subject_id in mine.get(row.scope, set())


async def _names(session: AsyncSession, rows: Iterable[Quota]) -> dict[tuple[str, int], str]:
    """How people name each quota's subject (``#id`` for one that is gone)."""
    wanted: dict[str, set[int]] = {}
    for row in rows:
        wanted.setdefault(row.scope, set()).add(row.subject_id)
    names: dict[tuple[str, int], str] = {}
    for scope, ids in wanted.items():
        if scope == QuotaScope.USER.value:
            stmt: Any = select(User.id, User.name).where(User.id.in_(ids))
        elif scope == QuotaScope.TEAM.value:
            stmt = select(Team.id, Team.name).where(Team.id.in_(ids))
        elif scope == QuotaScope.KEY.value:
            stmt = select(ApiKey.id, ApiKey.prefix).where(ApiKey.id.in_(ids))
        else:
            stmt = (
                select(ServiceDeployment.id, User.name + "/" + ServiceDeployment.deployment_name)
                .join(User, User.id == ServiceDeployment.user_id)
                .where(ServiceDeployment.id.in_(ids))
            )
        for subject_id, name in await session.execute(stmt):
            names[scope, subject_id] = name
        for subject_id in ids:
            names.setdefault((scope, subject_id), f"#{subject_id} (gone)")
    return names


async def _user_names(session: AsyncSession, ids: set[int | None]) -> dict[int, str]:
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return {}
    rows = await session.execute(select(User.id, User.name).where(User.id.in_(wanted)))
    return {row.id: row.name for row in rows}
