"""The runtime closes the months that ended while it was down as soon as it starts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from mcp_console.backend.billing.periods import month_start
from mcp_console.backend.db.models_invoices import ClosedMonth, Invoice
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import PriceModel
from mcp_console.settings import Settings

from .helpers import call, deployment, meter, service

# How long the job may take to run once the runtime is up (it is due at start).
WAIT_S = 30.0


async def test_a_started_runtime_issues_the_invoices_of_the_months_it_missed(
    settings: Settings,
) -> None:
    this_month = month_start(datetime.now(UTC))
    last_month = month_start(this_month - timedelta(hours=1))
    before_that = month_start(last_month - timedelta(hours=1))
    async with Runtime(settings, migrate=False) as runtime:
        admin = runtime.local_admin
        assert admin is not None
        paid = await service(runtime, admin, "paid", PriceModel.PAID, Decimal("0.5"))
        dep = await deployment(runtime, paid, admin, "paid")
        await meter(
            runtime,
            [
                *(call(dep, admin, before_that + timedelta(days=3)) for _ in range(2)),
                call(dep, admin, this_month),
            ],
        )

    async with Runtime(settings, migrate=False, background=True) as runtime:
        closed: list[str] = []
        async with asyncio.timeout(WAIT_S):
            while len(closed) < 2:
                await asyncio.sleep(0.05)
                async with runtime.sessions() as session:
                    closed = list(await session.scalars(select(ClosedMonth.month)))
        async with runtime.sessions() as session:
            issued = [
                (i.month, i.subject_name, i.total) for i in await session.scalars(select(Invoice))
            ]

    assert sorted(closed) == [f"{before_that:%Y-%m}", f"{last_month:%Y-%m}"]
    assert issued == [(f"{before_that:%Y-%m}", "admin", Decimal("1.0000"))]
