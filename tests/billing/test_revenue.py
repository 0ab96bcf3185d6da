"""An author's revenue is exactly what the callers of their priced services were charged."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from mcp_console.backend.billing.revenue import RevenueService
from mcp_console.backend.db.models import ServiceDeployment, ServiceVersion
from mcp_console.backend.gateway.records import RequestRecord
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.billing import PriceSet, UsageBreakdown, UsageQuery
from mcp_console.schemas.catalog import PriceModel, VersionCreate
from mcp_console.schemas.errors import Forbidden, Invalid, NotFound
from mcp_console.schemas.revenue import RevenueBreakdown, RevenueQuery
from mcp_console.schemas.users import Principal, Role
from tests.backend.factories import IMAGE, make_user

from .helpers import Clock, at, billing, call, deployment, meter, service


async def _on_version(runtime: Runtime, deployment_id: int, version: str) -> None:
    """Move a deployment to another version of its service (as an update does)."""
    async with runtime.sessions.begin() as session:
        version_id = await session.scalar(
            select(ServiceVersion.id)
            .join(ServiceDeployment, ServiceDeployment.service_id == ServiceVersion.service_id)
            .where(ServiceDeployment.id == deployment_id, ServiceVersion.version == version)
        )
        await session.execute(
            update(ServiceDeployment)
            .where(ServiceDeployment.id == deployment_id)
            .values(version_id=version_id)
        )


def _calls(
    dep: int, user: Principal, when: datetime, n: int, *, failed: int = 0
) -> list[RequestRecord]:
    return [call(dep, user, when, status=500, error=True) for _ in range(failed)] + [
        call(dep, user, when) for _ in range(n - failed)
    ]


async def _market(runtime: Runtime, clock: Clock) -> dict[str, Principal]:
    """Two authors' services (PAID over two versions, FREEMIUM, FREE) called in Nov and Dec."""
    assert runtime.local_admin is not None
    prices, _ = billing(runtime, clock)
    ann = await make_user(runtime, "ann", Role.AUTHOR)
    bob = await make_user(runtime, "bob", Role.AUTHOR)
    cat = await make_user(runtime, "cat", Role.USER)
    dan = await make_user(runtime, "dan", Role.USER)
    paid = await service(runtime, ann, "ann-paid", PriceModel.PAID, Decimal("0.01"))
    await runtime.catalog.add_version(
        ann, "ann-paid", VersionCreate(version="2.0.0", docker_image=IMAGE)
    )
    freemium = await service(runtime, ann, "ann-freemium", PriceModel.PAID, Decimal("0.003"))
    await prices.set_price(
        ann,
        "ann-freemium",
        PriceSet(per_call=Decimal("0.003"), free_requests=4, effective_from=at("2026-11-01T00:00")),
    )
    free = await service(runtime, ann, "ann-free")
    bobs = await service(runtime, bob, "bob-paid", PriceModel.PAID, Decimal("0.02"))
    paid_v1 = await deployment(runtime, paid, cat, "paid-one")
    paid_v2 = await deployment(runtime, paid, dan, "paid-two")
    await _on_version(runtime, paid_v2, "2.0.0")
    fm = await deployment(runtime, freemium, cat, "fm")
    fm_dan = await deployment(runtime, freemium, dan, "fm-dan")
    free_dep = await deployment(runtime, free, cat, "free")
    bob_dep = await deployment(runtime, bobs, dan, "bob")
    await meter(
        runtime,
        [
            # ann-paid: 2 of cat's 3 calls served on 1.0.0 (0.02), dan's 5 on 2.0.0 (0.05).
            *_calls(paid_v1, cat, at("2026-11-03T10:00"), 3, failed=1),
            *_calls(paid_v2, dan, at("2026-12-05T10:00"), 5),
            # ann-freemium, 4 free per caller per month: cat pays 2 in Nov (0.006); in Dec
            # cat's first 3 are free and 1 of the 2 later ones too, dan pays 3 of 7 (0.012).
            *_calls(fm, cat, at("2026-11-20T08:00"), 6),
            *_calls(fm, cat, at("2026-12-02T08:00"), 3),
            *_calls(fm_dan, cat, at("2026-12-12T09:00"), 2),
            *_calls(fm_dan, dan, at("2026-12-12T09:00"), 7),
            # Earns nothing: a FREE service; and bob's service is bob's.
            *_calls(free_dep, dan, at("2026-12-12T09:00"), 10),
            *_calls(bob_dep, cat, at("2026-12-12T09:00"), 4),
        ],
    )
    return {"admin": runtime.local_admin, "ann": ann, "bob": bob, "cat": cat}


def _revenue(runtime: Runtime, clock: Clock) -> RevenueService:
    prices, _ = billing(runtime, clock)
    return RevenueService(runtime.sessions, prices, clock=clock)


async def test_an_authors_revenue_is_what_the_callers_of_their_priced_services_were_charged(
    runtime: Runtime,
) -> None:
    clock = Clock(at("2026-10-31T12:00"))
    people = await _market(runtime, clock)
    clock.now = at("2026-12-31T00:00")
    revenue = _revenue(runtime, clock)
    _, usage = billing(runtime, clock)
    ann = people["ann"]
    both_months = {"start": "2026-11", "end": "2026-12"}

    by_service = await revenue.revenue(ann, RevenueQuery(**both_months))
    by_version = await revenue.revenue(
        ann, RevenueQuery(by=RevenueBreakdown.VERSION, **both_months)
    )
    by_month = await revenue.revenue(ann, RevenueQuery(by=RevenueBreakdown.MONTH, **both_months))
    charged = await usage.usage(
        people["admin"], UsageQuery(by=UsageBreakdown.SERVICE, **both_months)
    )

    assert [
        (r.key, r.requests, r.errors, r.free, r.charged, r.earned) for r in by_service.rows
    ] == [
        ("ann-freemium", 18, 0, 12, 6, Decimal("0.02")),  # 0.018, rounded half to even
        ("ann-paid", 8, 1, 0, 7, Decimal("0.07")),
    ]
    # Exactly what the callers were charged for those services (the FREE one earns nothing,
    # bob's is not ann's), and the total rounded once from the exact 0.088.
    costs = {r.key: r.cost for r in charged.rows}
    assert {r.key: r.earned for r in by_service.rows} == {
        k: costs[k] for k in ("ann-freemium", "ann-paid")
    }
    assert costs["ann-free"] == Decimal("0.00")
    assert by_service.total.earned == Decimal("0.09")
    assert (by_service.author, by_service.currency) == ("ann", "USD")
    assert [(r.service, r.key, r.earned) for r in by_version.rows] == [
        ("ann-freemium", "1.0.0", Decimal("0.02")),
        ("ann-paid", "1.0.0", Decimal("0.02")),
        ("ann-paid", "2.0.0", Decimal("0.05")),
    ]
    assert [(r.key, r.earned) for r in by_month.rows] == [
        ("2026-11", Decimal("0.03")),  # 0.026
        ("2026-12", Decimal("0.06")),  # 0.062
    ]
    assert by_version.total == by_month.total == by_service.total


async def test_a_period_from_mid_month_counts_the_allowance_from_the_month_start(
    runtime: Runtime,
) -> None:
    clock = Clock(at("2026-10-31T12:00"))
    people = await _market(runtime, clock)
    clock.now = at("2026-12-31T00:00")

    report = await _revenue(runtime, clock).revenue(people["ann"], RevenueQuery(start="2026-12-10"))

    # cat's 3 calls of Dec 2 used 3 of the 4 free: 1 of the 2 on Dec 12 is charged.
    assert [(r.key, r.free, r.charged, r.earned) for r in report.rows] == [
        ("ann-freemium", 5, 4, Decimal("0.01")),  # 0.012
    ]


async def test_an_author_sees_only_their_own_services_and_an_admin_names_the_author(
    runtime: Runtime,
) -> None:
    clock = Clock(at("2026-10-31T12:00"))
    people = await _market(runtime, clock)
    clock.now = at("2026-12-31T00:00")
    revenue = _revenue(runtime, clock)
    december = RevenueQuery(start="2026-12")

    bobs = await revenue.revenue(people["bob"], december)
    anns = await revenue.revenue(people["ann"], december)
    as_admin = await revenue.revenue(people["admin"], RevenueQuery(start="2026-12", author="ann"))
    callers = await revenue.revenue(people["cat"], december)

    assert [(r.key, r.earned) for r in bobs.rows] == [("bob-paid", Decimal("0.08"))]
    assert as_admin == anns
    assert "bob-paid" not in {r.key for r in anns.rows}
    assert (callers.rows, callers.total.earned) == ([], Decimal("0.00"))
    with pytest.raises(Forbidden, match="not ann's"):
        await revenue.revenue(people["bob"], RevenueQuery(author="ann"))
    with pytest.raises(NotFound) as missing:
        await revenue.revenue(people["admin"], RevenueQuery(author="nobody"))
    assert missing.value.field == "author"
    with pytest.raises(Invalid) as bad:
        await revenue.revenue(people["ann"], RevenueQuery(start="2026-12-05", end="2026-12-01"))
    assert bad.value.field == "to"
