"""Billing routes: a service's prices over time, and usage priced and grouped."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from mcp_console.backend.api.deps import Actor, RuntimeDep, ScopedActor, ServiceName
from mcp_console.schemas.billing import (
    PriceSet,
    PriceView,
    UsageBreakdown,
    UsageQuery,
    UsageReport,
)
from mcp_console.schemas.metering import MeteringState
from mcp_console.schemas.revenue import RevenueBreakdown, RevenueQuery, RevenueReport

router = APIRouter(tags=["billing"])


def usage_query(
    by: Annotated[UsageBreakdown, Query(description="What the usage is grouped by.")] = (
        UsageBreakdown.SERVICE
    ),
    start: Annotated[
        str | None,
        Query(
            alias="from",
            description="A month (2026-12), a day, an ISO 8601 time or a duration back (7d); "
            "default: the start of this month.",
        ),
    ] = None,
    end: Annotated[
        str | None,
        Query(alias="to", description="As from; a month or day is included whole."),
    ] = None,
    user: Annotated[str | None, Query(description="Only this user's calls.")] = None,
    team: Annotated[str | None, Query(description="Only the calls of this team's members.")] = None,
) -> UsageQuery:
    """The usage the query string asks for (its times are checked by the service)."""
    return UsageQuery(by=by, start=start, end=end, user=user, team=team)


@router.get("/billing/usage")
async def get_usage(
    rt: RuntimeDep, actor: ScopedActor, query: Annotated[UsageQuery, Depends(usage_query)]
) -> UsageReport:
    """Billable usage priced at the prices of its time: an admin's is everyone's; anyone
    else's their own calls and those of the members of the teams they maintain."""
    return await rt.usage.usage(actor, query)


def revenue_query(
    by: Annotated[RevenueBreakdown, Query(description="What the revenue is grouped by.")] = (
        RevenueBreakdown.SERVICE
    ),
    start: Annotated[
        str | None,
        Query(alias="from", description="As for usage; default: the start of this month."),
    ] = None,
    end: Annotated[
        str | None,
        Query(alias="to", description="As from; a month or day is included whole."),
    ] = None,
    author: Annotated[
        str | None, Query(description="Whose services (an admin's choice; default: yours).")
    ] = None,
) -> RevenueQuery:
    """The revenue the query string asks for (its times are checked by the service)."""
    return RevenueQuery.model_construct(by=by, start=start, end=end, author=author)


@router.get("/billing/revenue")
async def get_revenue(
    rt: RuntimeDep, actor: Actor, query: Annotated[RevenueQuery, Depends(revenue_query)]
) -> RevenueReport:
    """What the caller's PAID and FREEMIUM services earned (an admin may name an author):
    exactly what their callers were charged, by service, version or month."""
    return await rt.revenue.revenue(actor, query)


@router.get("/billing/metering")
async def get_metering(rt: RuntimeDep, actor: Actor) -> MeteringState:
    """How usage reaches the database (durable or not, the crash journal, the calls not
    written yet) and what crashes lost: the calls each restart found served and never
    written (admins)."""
    return await rt.metering.state(actor)


@router.get("/billing/prices/{name:path}")
async def list_prices(rt: RuntimeDep, actor: ScopedActor, name: ServiceName) -> list[PriceView]:
    """A service's prices, by tool and then time (the catalog's first until one replaced it)."""
    return await rt.prices.list_prices(actor, name)


@router.post("/billing/prices/{name:path}", status_code=status.HTTP_201_CREATED)
async def set_price(rt: RuntimeDep, actor: Actor, name: ServiceName, price: PriceSet) -> PriceView:
    """Set a service's price (or one tool's) from a whole hour in the future on (its author
    or an admin)."""
    return await rt.prices.set_price(actor, name, price)
