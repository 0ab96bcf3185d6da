"""A change of a service's price in the catalog reaches billing from the next hour, not before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.billing import PriceSet, UsageBreakdown, UsageQuery, hour_floor, next_hour
from mcp_console.schemas.catalog import PriceModel, ServiceUpdate

from .helpers import Clock, billing, call, deployment, meter, service


async def test_a_catalog_price_edit_applies_from_the_next_hour_and_calls_before_keep_theirs(
    runtime: Runtime,
) -> None:
    admin = runtime.local_admin
    assert admin is not None
    svc = await service(runtime, admin, "edited", PriceModel.PAID, Decimal("0.01"))
    dep = await deployment(runtime, svc, admin, "edited")
    now = datetime.now(UTC)
    before, after = hour_floor(now), next_hour(now)
    await meter(runtime, [call(dep, admin, before)] * 3)

    await runtime.catalog.update(
        admin,
        "edited",
        ServiceUpdate(price_model=PriceModel.PAID, price_per_request=Decimal("0.05")),
    )
    await meter(runtime, [call(dep, admin, after)] * 2)
    # Editing something else leaves the timeline as it is.
    await runtime.catalog.update(admin, "edited", ServiceUpdate(description="Now dearer"))
    prices, usage = billing(runtime, Clock(after + timedelta(hours=1)))
    by_hour = await usage.usage(
        admin, UsageQuery(by=UsageBreakdown.SERVICE, start=before.isoformat())
    )
    listed = await prices.list_prices(admin, "edited")
    created = (await runtime.catalog.get_service(admin, "edited")).created_at

    # 3 calls at 0.01 before the change, 2 at 0.05 after it.
    assert (by_hour.total.requests, by_hour.total.cost) == (5, Decimal("0.13"))
    assert [(p.model, p.per_call, p.set_by, p.effective_from) for p in listed] == [
        (PriceModel.PAID, Decimal("0.01"), None, hour_floor(created)),  # the catalog's
        (PriceModel.PAID, Decimal("0.05"), "admin", after),
    ]


async def test_a_price_set_in_billing_is_what_the_catalog_shows_and_calls_before_keep_theirs(
    runtime: Runtime,
) -> None:
    admin = runtime.local_admin
    assert admin is not None
    svc = await service(runtime, admin, "repriced")
    dep = await deployment(runtime, svc, admin, "repriced")
    now = datetime.now(UTC)
    before, after = hour_floor(now), next_hour(now)
    await meter(runtime, [call(dep, admin, before)] * 4)
    prices, usage = billing(runtime, Clock(now))

    await prices.set_price(admin, "repriced", PriceSet(per_call=Decimal("0.02"), free_requests=1))
    await prices.set_price(admin, "repriced", PriceSet(per_call=Decimal("5"), tool="render"))
    await meter(runtime, [call(dep, admin, after)] * 3)
    shown = await runtime.catalog.get_service(admin, "repriced")
    found = await runtime.catalog.search(admin, "repriced price:freemium")
    _, usage = billing(runtime, Clock(after + timedelta(hours=1)))
    report = await usage.usage(admin, UsageQuery(start=before.isoformat()))

    # The service's own price shows in the catalog (a tool's does not change it)...
    assert (shown.price_model, shown.price_per_request) == (PriceModel.FREEMIUM, Decimal("0.02"))
    assert [s.name for s in found.items] == ["repriced"]
    # ...and the 4 calls made while it was FREE stay free; after it, 1 free then 2 at 0.02.
    assert (report.total.free, report.total.charged, report.total.cost) == (5, 2, Decimal("0.04"))
