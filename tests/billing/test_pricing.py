"""Usage is priced at the price of its hour, per tool, with FREEMIUM allowances per user."""

from __future__ import annotations

from decimal import Decimal

from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.billing import PriceSet, UsageBreakdown, UsageQuery, UsageReport
from mcp_console.schemas.catalog import PriceModel
from mcp_console.schemas.users import Principal, Role
from tests.backend.factories import make_user

from .helpers import Clock, at, billing, call, deployment, meter, service


def _admin(runtime: Runtime) -> Principal:
    assert runtime.local_admin is not None
    return runtime.local_admin


async def test_a_price_change_mid_month_bills_the_usage_before_it_at_the_old_price(
    runtime: Runtime,
) -> None:
    admin = _admin(runtime)
    clock = Clock(at("2026-12-01T00:30"))
    prices, usage = billing(runtime, clock)
    svc = await service(runtime, admin, "paid", PriceModel.PAID, Decimal("0.01"))
    dep = await deployment(runtime, svc, admin, "paid")
    change = at("2026-12-15T10:00")
    await prices.set_price(admin, "paid", PriceSet(per_call=Decimal("0.05"), effective_from=change))

    await meter(
        runtime,
        [
            *(call(dep, admin, at("2026-12-10T08:00")) for _ in range(3)),
            *(call(dep, admin, at("2026-12-15T09:59")) for _ in range(2)),
            *(call(dep, admin, change) for _ in range(4)),
            call(dep, admin, at("2026-12-16T12:00"), status=500, error=True),
        ],
    )
    clock.now = at("2026-12-20T00:00")
    by_day = await usage.usage(admin, UsageQuery(by=UsageBreakdown.DAY))

    assert [(r.key, r.requests, r.errors, r.charged, r.cost) for r in by_day.rows] == [
        ("2026-12-10", 3, 0, 3, Decimal("0.03")),
        ("2026-12-15", 6, 0, 6, Decimal("0.22")),  # 2 at 0.01 before 10:00, 4 at 0.05 after
        ("2026-12-16", 1, 1, 0, Decimal("0.00")),  # a failed call costs nothing
    ]
    assert by_day.total.cost == Decimal("0.25")
    assert by_day.currency == "USD"
    listed = await prices.list_prices(admin, "paid")
    assert [(p.per_call, p.set_by, p.tool) for p in listed] == [
        (Decimal("0.01"), None, None),  # the catalog's, until the change
        (Decimal("0.05"), "admin", None),
    ]
    assert listed[1].effective_from == change
    assert str(listed[1].per_call) == "0.05"


async def test_a_freemium_allowance_is_per_user_per_month_across_the_service_deployments(
    runtime: Runtime,
) -> None:
    admin = _admin(runtime)
    alice = await make_user(runtime, "alice", Role.USER)
    bob = await make_user(runtime, "bob", Role.USER)
    clock = Clock(at("2026-11-30T12:10"))
    prices, usage = billing(runtime, clock)
    svc = await service(runtime, admin, "freemium")
    east = await deployment(runtime, svc, admin, "east")
    west = await deployment(runtime, svc, admin, "west")
    await prices.set_price(admin, "freemium", PriceSet(per_call=Decimal("0.002"), free_requests=5))

    await meter(
        runtime,
        [
            *(call(east, alice, at("2026-12-02T10:00")) for _ in range(3)),
            *(call(west, alice, at("2026-12-12T10:00")) for _ in range(5)),
            *(call(west, bob, at("2026-12-12T10:00")) for _ in range(2)),
            *(call(east, alice, at("2027-01-03T09:00")) for _ in range(6)),
        ],
    )
    clock.now = at("2027-01-20T00:00")
    december = await usage.usage(
        admin, UsageQuery(by=UsageBreakdown.USER, start="2026-12", end="2026-12")
    )
    january = await usage.usage(admin, UsageQuery(by=UsageBreakdown.USER, start="2027-01"))
    # From mid-December: alice's first 3 calls of the month used 3 of her 5 free ones.
    late = await usage.usage(
        admin, UsageQuery(by=UsageBreakdown.DEPLOYMENT, start="2026-12-10", end="2026-12")
    )

    def rows(report: UsageReport) -> list[tuple[str, int, int, Decimal]]:
        return [(r.key, r.free, r.charged, r.cost) for r in report.rows]

    # bob pays nothing for alice's free calls: each has five a month.
    assert rows(december) == [
        ("alice", 5, 3, Decimal("0.01")),  # 3 x 0.002 = 0.006, rounded once
        ("bob", 2, 0, Decimal("0.00")),
    ]
    assert december.total.cost == Decimal("0.01")
    assert rows(january) == [("alice", 5, 1, Decimal("0.00"))]
    assert rows(late) == [("admin/west", 2 + 2, 3, Decimal("0.01"))]


async def test_a_tool_price_overrides_the_service_price_and_only_billable_methods_count(
    runtime: Runtime,
) -> None:
    admin = _admin(runtime)
    clock = Clock(at("2026-12-01T09:10"))
    prices, usage = billing(runtime, clock)
    svc = await service(runtime, admin, "mixed", PriceModel.PAID, Decimal("0.01"))
    dep = await deployment(runtime, svc, admin, "mixed")
    await prices.set_price(admin, "mixed", PriceSet(per_call=Decimal("0.5"), tool="render"))

    hour = at("2026-12-01T10:30")
    await meter(
        runtime,
        [
            *(call(dep, admin, hour, "add") for _ in range(2)),
            *(call(dep, admin, hour, "render") for _ in range(3)),
            call(dep, admin, hour, "file:///a", method="resources/read"),
            call(dep, admin, hour, "greet", method="prompts/get"),
            # The protocol around the calls is not billed.
            call(dep, admin, hour, None, method="initialize"),
            call(dep, admin, hour, None, method="tools/list"),
            call(dep, admin, hour, None, method="notifications/initialized", status=202),
            call(dep, admin, hour, None, method="GET"),
        ],
    )
    clock.now = at("2026-12-02T00:00")
    report = await usage.usage(admin, UsageQuery(by=UsageBreakdown.TOOL))

    assert [(r.service, r.key, r.requests, r.cost) for r in report.rows] == [
        ("mixed", "add", 2, Decimal("0.02")),
        ("mixed", "prompts/get", 1, Decimal("0.01")),
        ("mixed", "render", 3, Decimal("1.50")),
        ("mixed", "resources/read", 1, Decimal("0.01")),
    ]
    assert (report.total.requests, report.total.cost) == (7, Decimal("1.54"))


async def test_amounts_are_exact_decimals_rounded_once_from_the_exact_sum(
    runtime: Runtime,
) -> None:
    admin = _admin(runtime)
    clock = Clock(at("2026-12-01T00:00"))
    _, usage = billing(runtime, clock)
    svc = await service(runtime, admin, "tiny", PriceModel.PAID, Decimal("0.0035"))
    half = await service(runtime, admin, "half", PriceModel.PAID, Decimal("0.005"))
    dep = await deployment(runtime, svc, admin, "tiny")
    other = await deployment(runtime, half, admin, "half")
    await meter(
        runtime,
        [
            call(dep, admin, at("2026-12-01T10:00")),
            call(dep, admin, at("2026-12-02T10:00")),
            call(dep, admin, at("2026-12-03T10:00")),
            call(other, admin, at("2026-12-04T10:00")),
        ],
    )
    clock.now = at("2026-12-05T00:00")
    by_day = await usage.usage(admin, UsageQuery(by=UsageBreakdown.DAY))
    by_service = await usage.usage(admin, UsageQuery(by=UsageBreakdown.SERVICE))

    # Each day costs 0.0035 (0.00 shown) or 0.005 (0.00: half to even); the total is
    # 0.0155, rounded once to 0.02, not the sum of rounded days (0.00).
    assert [r.cost for r in by_day.rows] == [Decimal("0.00")] * 4
    assert by_day.total.cost == Decimal("0.02")
    assert [(r.key, r.cost) for r in by_service.rows] == [
        ("half", Decimal("0.00")),  # 0.005: half to even
        ("tiny", Decimal("0.01")),  # 0.0105
    ]
    assert all(isinstance(r.cost, Decimal) for r in by_day.rows)
    assert str(by_day.total.cost) == "0.02"
