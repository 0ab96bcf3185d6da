"""RevenueService: what an author's priced services earned, by the ledger callers pay by."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.billing.periods import month_start, period
from mcp_console.backend.billing.prices import Clock, PriceService, utc_now
from mcp_console.backend.billing.rating import rate
from mcp_console.backend.billing.usage import Flush, Tally, metered_calls
from mcp_console.backend.db.models import McpService, ServiceDeployment, ServiceVersion, User
from mcp_console.schemas.catalog import PriceModel
from mcp_console.schemas.errors import Forbidden, NotFound, revalidated
from mcp_console.schemas.revenue import RevenueBreakdown, RevenueQuery, RevenueReport, RevenueRow
from mcp_console.schemas.users import Principal


def _earned(tally: Tally, key: str, currency: str) -> RevenueRow:
    """A tally of calls as revenue: what its callers were charged is what it earned."""
    row = tally.row(key, currency)
    return RevenueRow(**row.model_dump(exclude={"cost"}), earned=row.cost)


class RevenueService:
    """An author's earnings: the calls to their services priced PAID or FREEMIUM, each at the
    price its caller was charged (``rating.rate``, as usage and invoices price them), so what
    an author earned is exactly what the callers of their services paid.

    Calls at a FREE price earn nothing and are not shown. A call's version is its
    deployment's version now (the meter keeps no version per call). An author reads their
    own services' revenue; an admin any author's.

    Args:
        sessions: the database.
        prices: the price timelines.
        flush: writes what the meter holds (so the latest calls count).
        clock: the time now.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        prices: PriceService,
        flush: Flush | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._sessions = sessions
        self._prices = prices
        self._flush = flush
        self._clock = clock

    async def revenue(self, actor: Principal, query: RevenueQuery) -> RevenueReport:
        """What ``query.author``'s services (default: ``actor``'s) earned in the period,
        grouped by ``query.by``.

        Raises:
            Invalid: a bad time or period (``field`` names it).
            NotFound: no user named ``query.author`` (``field="author"``).
            Forbidden: ``actor`` names an author other than themselves and is not an admin.
        """
        query = revalidated(query)
        first, last = period(query.start, query.end, self._clock())
        author = query.author.strip() if query.author else actor.name
        if author != actor.name and not actor.is_admin:
            raise Forbidden(f"{actor.name} may read their own revenue, not {author}'s")
        if self._flush is not None:
            await self._flush()
        async with self._sessions() as session:
            author_id = await session.scalar(select(User.id).where(User.name == author))
            if author_id is None:
                raise NotFound(f"no user named {author!r}", field="author")
            owned = await session.execute(
                select(McpService.id, McpService.name).where(McpService.author_id == author_id)
            )
            services = {int(service_id): str(name) for service_id, name in owned}
            # A FREEMIUM allowance counts a month's calls from its start, every caller's.
            calls = await metered_calls(session, month_start(first), last, services=services)
            timelines = await self._prices.timelines(session, services)
            versions = await _versions(session, {c.deployment_id for c in calls})
        groups: dict[tuple[str, str], Tally] = {}
        total = Tally()
        for r in rate(calls, timelines):
            c = r.calls
            if not first <= c.hour < last:
                continue
            if timelines[c.service_id].price(c.method, c.tool, c.hour).model is PriceModel.FREE:
                continue
            total.add(r)
            name = services[c.service_id]
            if query.by is RevenueBreakdown.SERVICE:
                key = ("", name)
            elif query.by is RevenueBreakdown.VERSION:
                key = (name, versions[c.deployment_id])
            else:
                key = ("", f"{c.hour:%Y-%m}")
            group = groups.get(key)
            if group is None:
                group = groups[key] = Tally(service=key[0] or None)
            group.add(r)
        currency = self._prices.currency
        return RevenueReport(
            author=author,
            by=query.by,
            start=first,
            end=last,
            currency=currency,
            rows=[_earned(groups[key], key[1], currency) for key in sorted(groups)],
            total=_earned(total, "total", currency),
        )


async def _versions(session: AsyncSession, deployments: set[int]) -> dict[int, str]:
    """Each deployment's version now."""
    if not deployments:
        return {}
    rows = await session.execute(
        select(ServiceDeployment.id, ServiceVersion.version)
        .join(ServiceVersion, ServiceVersion.id == ServiceDeployment.version_id)
        .where(ServiceDeployment.id.in_(sorted(deployments)))
    )
    return {int(d): str(v) for d, v in rows}
