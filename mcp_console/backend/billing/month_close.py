"""Closing a month: its invoices issued once, from the meter's rows, and never changed after."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.billing.invoice_build import BuiltInvoice, build_invoices, month_label
from mcp_console.backend.billing.periods import month_start, next_month
from mcp_console.backend.billing.prices import Clock, PriceService, utc_now
from mcp_console.backend.db.models_billing import ALL_TOOLS, UsageHour
from mcp_console.backend.db.models_invoices import ClosedMonth, Invoice, InvoiceLine
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.invoices import MonthClose

Flush = Callable[[], Awaitable[Any]]
# A month is closed by the periodic job this long after its end: the meter's last rows of
# it (written within a flush interval, or replayed at a restart) are in by then.
SETTLE = timedelta(minutes=10)

logger = logging.getLogger(__name__)


async def nothing_to_flush() -> None:
    return None


class MonthCloser:
    """Issues each calendar month's invoices once the month is over.

    Closing a month writes every user's and team's invoice of it, with their lines, and a
    row saying the month is closed, in one transaction that starts with that row: a second
    close of the same month (again, or from another console on the same database) finds it
    or fails on it, and issues nothing. Invoices are computed before that transaction
    (``invoice_build``), so the meter's writes are not held up meanwhile.

    Args:
        sessions: the database.
        prices: the price timelines and the currency.
        flush: writes what the meter holds (the month's last calls).
        clock: the time now (tests pass their own: months pass without waiting).
        settle: how long after its end the periodic job closes a month.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        prices: PriceService,
        flush: Flush = nothing_to_flush,
        clock: Clock = utc_now,
        settle: timedelta = SETTLE,
    ) -> None:
        self._sessions = sessions
        self._prices = prices
        self._flush = flush
        self._clock = clock
        self._settle = settle

    async def closed(self, session: AsyncSession, first: datetime) -> ClosedMonth | None:
        """The close of the month starting at ``first``, if it was closed."""
        return await session.get(ClosedMonth, month_label(first))

    async def close(self, first: datetime) -> MonthClose:
        """Issue the invoices of the month starting at ``first``, unless it was closed.

        Raises:
            Invalid: the month is not over yet (``field="month"``).
        """
        label = month_label(first)
        end = next_month(first)
        if end > self._clock():
            raise Invalid(
                f"month {label} is not over until {end:%Y-%m-%d %H:%M} UTC: its invoices are "
                "drafts until then",
                field="month",
            )
        await self._flush()
        async with self._sessions() as session:
            done = await self.closed(session, first)
            if done is not None:
                return _closed(done, already=True)
            built = await build_invoices(session, self._prices, first)
        now = self._clock()
        try:
            async with self._sessions.begin() as session:
                # First: a concurrent close of the same month fails here, before any invoice.
                session.add(ClosedMonth(month=label, closed_at=now, invoices=len(built)))
                await session.flush()
                await _write(session, label, built, now, self._prices.currency)
        except IntegrityError:
            async with self._sessions() as session:
                done = await self.closed(session, first)
            if done is None:
                raise
            return _closed(done, already=True)
        logger.info("closed %s: %d invoices issued", label, len(built))
        return MonthClose(month=label, invoices=len(built), closed_at=now, already=False)

    async def catch_up(self) -> list[MonthClose]:
        """Close every month that ended ``settle`` ago or more and is not closed yet, from
        the first with metered calls on (after a downtime over a month's end: each missed)."""
        over = month_start(self._clock() - self._settle)
        async with self._sessions() as session:
            earliest = await session.scalar(select(func.min(UsageHour.hour)))
            closed = set(await session.scalars(select(ClosedMonth.month)))
        if earliest is None:
            return []
        closes = []
        first = month_start(earliest)
        while first < over:
            if month_label(first) not in closed:
                closes.append(await self.close(first))
            first = next_month(first)
        return closes


def _closed(row: ClosedMonth, *, already: bool) -> MonthClose:
    return MonthClose(
        month=row.month, invoices=row.invoices, closed_at=row.closed_at, already=already
    )


async def _write(
    session: AsyncSession, month: str, built: list[BuiltInvoice], now: datetime, currency: str
) -> None:
    """Every invoice and line in two statements (each run over many rows), however many."""
    if not built:
        return
    await session.execute(
        insert(Invoice),
        [
            {
                "id": b.id,
                "month": month,
                "subject_kind": b.kind.value,
                "subject_id": b.subject_id,
                "subject_name": b.subject,
                "currency": currency,
                "requests": b.requests,
                "subtotal": b.subtotal,
                "tax": b.tax,
                "total": b.total,
                "issued_at": now,
            }
            for b in built
        ],
    )
    lines = [
        {
            "invoice_id": b.id,
            "position": position,
            "deployment": line.deployment,
            "service": line.service,
            "tool": line.tool or ALL_TOOLS,
            "price_model": line.model.value,
            "unit_price": line.unit_price,
            "requests": line.requests,
            "errors": line.errors,
            "free_requests": line.free,
            "charged": line.charged,
            "amount": line.amount,
        }
        for b in built
        for position, line in enumerate(b.lines)
    ]
    if lines:
        await session.execute(insert(InvoiceLine), lines)
