"""PriceService: a service's prices over time, set by its author or an admin, read by all."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.billing.money import ZERO, shown_price, unit_price
from mcp_console.backend.billing.rating import Price, PriceTimeline
from mcp_console.backend.catalog.price_history import keep_opening_price, put_price
from mcp_console.backend.catalog.service import can_see, require_owner
from mcp_console.backend.db.models import McpService, User
from mcp_console.backend.db.models_billing import ALL_TOOLS, ServicePrice
from mcp_console.backend.events import EventBus, acted_by
from mcp_console.schemas.billing import PriceSet, PriceView, hour_floor, next_hour
from mcp_console.schemas.catalog import PriceModel
from mcp_console.schemas.errors import Invalid, NotFound, revalidated
from mcp_console.schemas.users import Principal

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def catalog_price(service: McpService) -> Price:
    """The price a service's catalog entry gives it, in effect before any price was set."""
    model = PriceModel(service.price_model)
    per_call = Decimal(service.price_per_request) if model is not PriceModel.FREE else ZERO
    # FREEMIUM with no allowance set yet: charged from the first call, as the catalog said.
    return Price(ALL_TOOLS, model, unit_price(per_call), 0, hour_floor(service.created_at))


def _price(row: ServicePrice) -> Price:
    return Price(
        row.tool,
        PriceModel(row.price_model),
        row.unit_price,
        row.free_requests,
        row.effective_from,
    )


class PriceService:
    """Prices that apply from a whole UTC hour on, so usage keeps the price it was made at.

    A new price takes effect on a whole hour in the future (by default the next one): a
    price cannot reach back to usage already metered. Setting one again for the same hour
    replaces it (nothing was billed at it yet). Before its first price a service costs what
    its catalog entry says (a change of the catalog's price is stored as a price from the
    next hour, see ``catalog.price_history``, and a service's price set here is what its
    catalog entry shows from then on); a tool's price overrides the service's for that tool
    from its time on.

    Args:
        sessions: the database.
        currency: the one currency of every price and amount.
        clock: the time now (tests pass their own).
        events: told of each price set (quotas count spend with the new prices).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        currency: str,
        clock: Clock = utc_now,
        events: EventBus | None = None,
    ) -> None:
        self._sessions = sessions
        self.currency = currency
        self._clock = clock
        self._events = events

    async def set_price(self, actor: Principal, service: str, new: PriceSet) -> PriceView:
        """Set ``service``'s price (or one tool's) from ``new.effective_from`` on.

        Raises:
            NotFound: no such service (``field="service"``).
            Forbidden: ``actor`` is neither its author nor an admin.
            Invalid: a price that does not fit its model, an allowance on a tool, or a time
                that is not a whole hour in the future (``field`` names it).
        """
        new = revalidated(new)
        model = new.resolved_model
        _check(new, model)
        now = self._clock()
        start = new.effective_from or next_hour(now)
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        if start != hour_floor(start):
            raise Invalid(
                f"effective_from {start.isoformat()} is not a whole hour (UTC): usage is "
                "metered per hour",
                field="effective_from",
            )
        if start < now:
            raise Invalid(
                f"effective_from {start.isoformat()} is in the past: usage already metered "
                f"keeps its price (the earliest is {next_hour(now).isoformat()})",
                field="effective_from",
            )
        async with self._sessions.begin() as session:
            row = await _service(session, actor, service)
            require_owner(actor, row)
            tool = new.tool.strip() if new.tool else ALL_TOOLS
            if tool == ALL_TOOLS:
                # The catalog shows the service's price as last set; what it showed until
                # now stays the price of the calls made before (stored from its creation).
                old = (row.price_model, row.price_per_request)
                await keep_opening_price(session, row, old, start)
                row.price_model = model.value
                row.price_per_request = unit_price(new.per_call)
            price = await put_price(
                session,
                row.id,
                tool,
                start,
                model,
                unit_price(new.per_call),
                new.free_requests,
                actor.user_id,
                now,
            )
            view = self._view(row.name, price, actor.name)
        if self._events is not None:
            self._events.publish(
                {"type": "price.set", "service": row.name, "tool": view.tool, **acted_by(actor)}
            )
        return view

    async def list_prices(self, actor: Principal | None, service: str) -> list[PriceView]:
        """Every price of ``service`` by tool and then time; the catalog's first (as set by
        nobody, since the service's creation) when no price of its own replaced it from then.

        Raises:
            NotFound: no such service visible to ``actor`` (``field="service"``).
        """
        async with self._sessions() as session:
            row = await _service(session, actor, service)
            rows = (
                await session.execute(
                    select(ServicePrice, User.name)
                    .outerjoin(User, User.id == ServicePrice.set_by)
                    .where(ServicePrice.service_id == row.id)
                    .order_by(ServicePrice.tool, ServicePrice.effective_from)
                )
            ).all()
        views = [self._view(row.name, price, setter) for price, setter in rows]
        opening = catalog_price(row)
        # The catalog's price holds until the service's first price of its own.
        if not any(v.tool is None and v.effective_from <= opening.effective_from for v in views):
            views.insert(
                0,
                PriceView(
                    service=row.name,
                    tool=None,
                    model=opening.model,
                    per_call=shown_price(opening.per_call),
                    free_requests=0,
                    effective_from=opening.effective_from,
                    currency=self.currency,
                    set_by=None,
                    set_at=row.created_at,
                ),
            )
        return views

    async def timelines(
        self, session: AsyncSession, service_ids: Collection[int]
    ) -> dict[int, PriceTimeline]:
        """The price timeline of each service in ``service_ids``."""
        wanted = sorted(set(service_ids))
        if not wanted:
            return {}
        services = await session.scalars(select(McpService).where(McpService.id.in_(wanted)))
        prices = await session.scalars(
            select(ServicePrice).where(ServicePrice.service_id.in_(wanted))
        )
        by_service: dict[int, list[Price]] = {}
        for price in prices:
            by_service.setdefault(price.service_id, []).append(_price(price))
        return {s.id: PriceTimeline(by_service.get(s.id, []), catalog_price(s)) for s in services}

    def _view(self, service: str, row: ServicePrice, setter: str | None) -> PriceView:
        return PriceView(
            service=service,
            tool=row.tool or None,
            model=PriceModel(row.price_model),
            per_call=shown_price(row.unit_price),
            free_requests=row.free_requests,
            effective_from=row.effective_from,
            currency=self.currency,
            set_by=setter,
            set_at=row.set_at,
        )


def _check(new: PriceSet, model: PriceModel) -> None:
    """What the fields of a price must agree on (each refusal names its field)."""
    if new.tool is not None and not new.tool.strip():
        raise Invalid("tool: a tool's name, or no --tool for the service's price", field="tool")
    if new.tool is not None and new.free_requests:
        raise Invalid(
            "free_requests: an allowance is per service, not per tool", field="free_requests"
        )
    if new.tool is not None and model is PriceModel.FREEMIUM:
        raise Invalid(
            "model: a tool is FREE or PAID (the allowance is the service's)", field="model"
        )
    if model is PriceModel.FREE and new.per_call:
        raise Invalid("per_call: a FREE price costs 0 per call", field="per_call")
    if model is not PriceModel.FREE and not new.per_call:
        raise Invalid(f"per_call: a {model.value} price needs a price per call", field="per_call")
    if model is not PriceModel.FREEMIUM and new.free_requests:
        raise Invalid(
            "free_requests: only a FREEMIUM price has a free allowance", field="free_requests"
        )
    if model is PriceModel.FREEMIUM and not new.free_requests:
        raise Invalid(
            "free_requests: a FREEMIUM price needs a free allowance", field="free_requests"
        )


async def _service(session: AsyncSession, actor: Principal | None, name: str) -> McpService:
    service = await session.scalar(select(McpService).where(McpService.name == name))
    if service is None or not can_see(actor, service):
        raise NotFound(f"no service named {name!r}", field="service")
    return service
