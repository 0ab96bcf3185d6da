"""A service's stored price timeline: one price per tool and hour; catalog edits kept in it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mcp_console.backend.db.models import McpService
from mcp_console.backend.db.models_billing import ALL_TOOLS, ServicePrice
from mcp_console.schemas.billing import hour_floor, next_hour
from mcp_console.schemas.catalog import PriceModel


async def put_price(
    session: AsyncSession,
    service_id: int,
    tool: str,
    start: datetime,
    model: PriceModel,
    per_call: Decimal,
    free_requests: int,
    set_by: int | None,
    set_at: datetime,
) -> ServicePrice:
    """Store a price of ``service_id`` (``tool`` empty: the service's own) from ``start`` on.

    A price set again for the same tool and hour replaces that one: nothing was billed at
    it yet, as its hour has not begun.
    """
    price = await session.scalar(
        select(ServicePrice).where(
            ServicePrice.service_id == service_id,
            ServicePrice.tool == tool,
            ServicePrice.effective_from == start,
        )
    )
    if price is None:
        price = ServicePrice(service_id=service_id, tool=tool, effective_from=start)
        session.add(price)
    price.price_model = model.value
    price.unit_price = per_call if model is not PriceModel.FREE else Decimal(0)
    price.free_requests = free_requests
    price.set_by = set_by
    price.set_at = set_at
    await session.flush()
    return price


async def keep_opening_price(
    session: AsyncSession, service: McpService, old: tuple[str, Decimal], until: datetime
) -> None:
    """Store ``old`` (model, price per request: what the catalog said) as ``service``'s price
    from its creation, unless a price of its own covers that time already, or the next
    price (from ``until``) starts no later than the service.

    Until a service has a price of its own, its catalog price is its price from its
    creation; stored before the catalog's price changes, it stays the price of the calls
    made until then.
    """
    opening = hour_floor(service.created_at)
    if until <= opening:
        return
    covered = await session.scalar(
        select(ServicePrice.id).where(
            ServicePrice.service_id == service.id,
            ServicePrice.tool == ALL_TOOLS,
            ServicePrice.effective_from <= opening,
        )
    )
    if covered is None:
        model, per_call = old
        await put_price(
            session,
            service.id,
            ALL_TOOLS,
            opening,
            PriceModel(model),
            per_call,
            0,
            None,
            service.created_at,
        )


async def keep_catalog_price_change(
    session: AsyncSession,
    service: McpService,
    old: tuple[str, Decimal],
    set_by: int,
    now: datetime,
) -> None:
    """Record in the timeline that ``service``'s catalog price changed from ``old`` (model,
    price per request) to what its row says now, from the next whole hour on: the calls
    made before keep the price they were made at."""
    start = next_hour(now)
    await keep_opening_price(session, service, old, start)
    await put_price(
        session,
        service.id,
        ALL_TOOLS,
        start,
        PriceModel(service.price_model),
        service.price_per_request,
        0,
        set_by,
        now,
    )
