"""The meter's hourly rows per tool hold exactly the calls of its daily rows, failures or not."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from mcp_console.backend.db.models import ServiceUsage
from mcp_console.backend.db.models_billing import UsageHour
from mcp_console.backend.gateway.meter import UsageMeter
from mcp_console.backend.runtime import Runtime

from .helpers import at, call, deployment, service


async def test_hourly_rows_match_the_daily_ones_after_a_failed_flush(runtime: Runtime) -> None:
    admin = runtime.local_admin
    assert admin is not None
    dep = await deployment(runtime, await service(runtime, admin, "hourly"), admin, "hourly")
    meter = UsageMeter(runtime.engine, flush_interval=60)
    nine, ten = at("2026-12-03T09:59:59"), at("2026-12-03T10:00:00")
    for i in range(30):
        meter.record(call(dep, admin, nine if i % 2 else ten, ("add", "echo")[i % 3 == 0]))
    meter.record(call(dep, admin, ten, None, method="tools/list"))  # not billable
    async with runtime.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE service_usage_hours RENAME TO hours_away"))
    with pytest.raises(Exception, match="service_usage_hours"):
        await meter.flush()
    for _ in range(5):
        meter.record(call(dep, admin, ten, "add", status=500, error=True))
    async with runtime.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE hours_away RENAME TO service_usage_hours"))
    await meter.flush()
    await meter.aclose()

    async with runtime.sessions() as session:
        daily = (
            await session.execute(
                select(func.sum(ServiceUsage.request_count), func.sum(ServiceUsage.error_count))
            )
        ).one()
        hourly = (
            await session.execute(
                select(
                    UsageHour.hour,
                    UsageHour.method,
                    UsageHour.tool,
                    UsageHour.request_count,
                    UsageHour.error_count,
                ).order_by(UsageHour.hour, UsageHour.tool)
            )
        ).all()
    # The failed write wrote neither table; the next wrote both, with the calls made since.
    assert tuple(daily) == (35, 5)
    assert [tuple(row) for row in hourly] == [
        (at("2026-12-03T09:00"), "tools/call", "add", 10, 0),
        (at("2026-12-03T09:00"), "tools/call", "echo", 5, 0),
        (at("2026-12-03T10:00"), "tools/call", "add", 10 + 5, 5),
        (at("2026-12-03T10:00"), "tools/call", "echo", 5, 0),
    ]
