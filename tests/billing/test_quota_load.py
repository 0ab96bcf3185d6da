"""A quota set later counts the calls already made in its period: written and still in the meter."""

from __future__ import annotations

from decimal import Decimal

from mcp_console.backend.billing.quota_book import QuotaBook
from mcp_console.backend.billing.quotas import QuotaService
from mcp_console.backend.db.models_billing import ServicePrice
from mcp_console.backend.gateway.records import is_error
from mcp_console.backend.gateway.usage_ledger import UsageLedger
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import PriceModel
from mcp_console.schemas.quotas import QuotaKind, QuotaPeriod, QuotaScope, QuotaSet
from mcp_console.schemas.users import Role
from tests.backend.factories import make_user

from .helpers import at, call, deployment, meter, service

NOW = at("2026-12-15T12:00")


async def test_a_loaded_quota_counts_written_and_unwritten_calls_at_their_prices(
    runtime: Runtime,
) -> None:
    admin = runtime.local_admin
    assert admin is not None
    ann = await make_user(runtime, "ann", Role.USER)
    paid = await service(runtime, admin, "paid", PriceModel.PAID, Decimal("0.01"))
    deployment_id = await deployment(runtime, paid, admin, "paid-a")
    async with runtime.sessions.begin() as session:
        # From six this morning on the service costs twice as much.
        session.add(
            ServicePrice(
                service_id=paid,
                tool="",
                price_model="PAID",
                unit_price=Decimal("0.02"),
                free_requests=0,
                effective_from=at("2026-12-15T06:00"),
                set_at=at("2026-12-01T00:00"),
            )
        )
    written = [call(deployment_id, ann, at("2026-12-14T10:00")) for _ in range(3)]
    written += [call(deployment_id, ann, at("2026-12-15T03:00"))]  # today, at the old price
    written += [call(deployment_id, ann, at("2026-12-15T09:00")) for _ in range(2)]
    await meter(runtime, written)
    # Four more calls the meter holds and has not written yet.
    pending = UsageLedger(billable_methods=runtime.settings.billing.billable_methods)
    for record in [call(deployment_id, ann, at("2026-12-15T11:30")) for _ in range(4)]:
        pending.add(record, is_error(record))
    book = QuotaBook(clock=NOW.timestamp)
    quotas = QuotaService(
        runtime.sessions, runtime.prices, book, runtime.events, pending=pending.pending_usage
    )

    for kind, period, allowed in (
        (QuotaKind.REQUESTS, QuotaPeriod.DAY, "10"),
        (QuotaKind.REQUESTS, QuotaPeriod.MONTH, "100"),
        (QuotaKind.SPEND, QuotaPeriod.MONTH, "1"),
    ):
        new = QuotaSet(
            scope=QuotaScope.USER,
            subject="ann",
            kind=kind,
            period=period,
            allowed=Decimal(allowed),
        )
        await quotas.set_quota(admin, new)

    used = {(lim.kind, lim.period): lim.used for lim in book.limits.values()}
    assert used == {
        (QuotaKind.REQUESTS, QuotaPeriod.DAY): Decimal(7),  # today's three written, four held
        (QuotaKind.REQUESTS, QuotaPeriod.MONTH): Decimal(10),
        # Four at 0.01 (yesterday's and 03:00's), six since 06:00 at 0.02.
        (QuotaKind.SPEND, QuotaPeriod.MONTH): Decimal("0.16"),
    }
