"""Usage read back equals what the meter counted, by every breakdown, for whoever may read it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from mcp_console.backend.db.models import ServiceDeployment, ServiceUsage
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.billing import PriceSet, UsageBreakdown, UsageQuery
from mcp_console.schemas.catalog import PriceModel
from mcp_console.schemas.errors import Forbidden, Invalid, NotFound
from mcp_console.schemas.users import Principal, Role, TeamCreate
from tests.backend.factories import make_user

from .helpers import Clock, at, billing, call, deployment, meter, service

START = at("2026-12-01T00:00")


async def _traffic(runtime: Runtime) -> dict[str, Principal]:
    """Three users calling two deployments of two services over three days."""
    assert runtime.local_admin is not None
    admin = runtime.local_admin
    users = {name: await make_user(runtime, name, Role.USER) for name in ("ann", "ben", "cat")}
    paid = await service(runtime, admin, "paid", PriceModel.PAID, Decimal("0.01"))
    free = await service(runtime, admin, "free")
    deployments = [
        await deployment(runtime, paid, admin, "paid-a"),
        await deployment(runtime, free, users["ann"], "free-b"),
    ]
    records = []
    for i in range(60):
        user = list(users.values())[i % 3]
        when = START + timedelta(hours=5 * i)
        tool = ("add", "mul", "div")[i % 2 + (i % 5 == 0)]
        failed = i % 7 == 0
        records.append(
            call(deployments[i % 2], user, when, tool, status=500 if failed else 200, error=failed)
        )
    await meter(runtime, records)
    return {"admin": admin, **users}


async def test_every_breakdown_adds_up_to_the_calls_the_meter_counted(runtime: Runtime) -> None:
    await _traffic(runtime)
    assert runtime.local_admin is not None
    _, usage = billing(runtime, Clock(at("2026-12-31T00:00")))
    async with runtime.sessions() as session:
        daily = dict(
            (
                await session.execute(
                    select(ServiceUsage.date, func.sum(ServiceUsage.request_count)).group_by(
                        ServiceUsage.date
                    )
                )
            ).all()
        )
        per_deployment = dict(
            (
                await session.execute(
                    select(
                        ServiceUsage.deployment_id, func.sum(ServiceUsage.request_count)
                    ).group_by(ServiceUsage.deployment_id)
                )
            ).all()
        )

    reports = {
        by: await usage.usage(runtime.local_admin, UsageQuery(by=by)) for by in UsageBreakdown
    }
    for by, report in reports.items():
        assert sum(r.requests for r in report.rows) == 60, by
        assert report.total.requests == 60
        assert report.total.errors == 9  # i = 0, 7, …, 56
    by_day = reports[UsageBreakdown.DAY]
    assert {r.key: r.requests for r in by_day.rows} == {f"{d}": int(n) for d, n in daily.items()}
    by_deployment = reports[UsageBreakdown.DEPLOYMENT]
    assert sorted(r.requests for r in by_deployment.rows) == sorted(
        int(n) for n in per_deployment.values()
    )
    assert [r.key for r in by_deployment.rows] == ["admin/paid-a", "ann/free-b"]
    assert [r.key for r in reports[UsageBreakdown.USER].rows] == ["ann", "ben", "cat"]
    assert [r.key for r in reports[UsageBreakdown.MONTH].rows] == ["2026-12"]
    assert {r.key for r in reports[UsageBreakdown.TOOL].rows} == {"add", "mul", "div"}
    # 30 calls to the paid deployment, 5 of them failed (i = 0, 14, 28, 42, 56).
    assert reports[UsageBreakdown.SERVICE].total.cost == Decimal("0.25")


async def test_a_user_reads_only_their_own_usage_and_a_maintainer_their_team(
    runtime: Runtime,
) -> None:
    people = await _traffic(runtime)
    _, usage = billing(runtime, Clock(at("2026-12-31T00:00")))
    ann, ben, cat = people["ann"], people["ben"], people["cat"]
    team = await runtime.teams.create(ann, TeamCreate(name="crew"))
    await runtime.teams.add_member(ann, team.name, "ben")
    by_user = UsageQuery(by=UsageBreakdown.USER)

    own = await usage.usage(cat, by_user)
    assert [r.key for r in own.rows] == ["cat"]
    with pytest.raises(Forbidden, match="not ann's"):
        await usage.usage(cat, UsageQuery(user="ann"))
    # ann maintains crew: she reads ben's usage; ben, a member, reads only his.
    assert [r.key for r in (await usage.usage(ann, by_user)).rows] == ["ann", "ben"]
    bens = await usage.usage(ann, UsageQuery(user="ben", by=UsageBreakdown.USER))
    assert [r.key for r in bens.rows] == ["ben"]
    with pytest.raises(Forbidden, match="crew"):
        await usage.usage(ben, UsageQuery(team="crew"))
    assert [r.key for r in (await usage.usage(ben, by_user)).rows] == ["ben"]
    by_team = await usage.usage(people["admin"], UsageQuery(by=UsageBreakdown.TEAM))
    assert [r.key for r in by_team.rows] == ["(no team)", "crew"]
    assert [r.key for r in (await usage.usage(people["admin"], by_user)).rows] == [
        "ann",
        "ben",
        "cat",
    ]
    with pytest.raises(NotFound) as missing:
        await usage.usage(people["admin"], UsageQuery(user="nobody"))
    assert missing.value.field == "user"
    # A key of ann's limited to her own deployment reads only her calls to it.
    everything = await usage.usage(ann, UsageQuery(by=UsageBreakdown.DEPLOYMENT))
    scoped_to = await _deployment_id(runtime, "free-b")
    scoped = ann.model_copy(update={"scope": frozenset({scoped_to})})
    limited = await usage.usage(scoped, UsageQuery(by=UsageBreakdown.DEPLOYMENT))
    assert [r.key for r in everything.rows] == ["admin/paid-a", "ann/free-b"]
    assert [(r.key, r.requests) for r in limited.rows] == [
        ("ann/free-b", next(r.requests for r in everything.rows if r.key == "ann/free-b"))
    ]


async def _deployment_id(runtime: Runtime, name: str) -> int:
    async with runtime.sessions() as session:
        found = await session.scalar(
            select(ServiceDeployment.id).where(ServiceDeployment.deployment_name == name)
        )
    assert found is not None
    return found


async def test_bad_periods_and_prices_are_refused_naming_the_field(runtime: Runtime) -> None:
    people = await _traffic(runtime)
    admin, ann = people["admin"], people["ann"]
    clock = Clock(at("2026-12-10T10:20"))
    prices, usage = billing(runtime, clock)

    async def refused(error: type[Exception], coro: object) -> str | None:
        with pytest.raises(error) as caught:
            await coro  # type: ignore[misc]
        return caught.value.field  # type: ignore[attr-defined, no-any-return]

    assert await refused(Invalid, usage.usage(admin, UsageQuery(start="yesterday"))) == "from"
    assert await refused(Invalid, usage.usage(admin, UsageQuery(start="2026-13"))) == "from"
    assert (
        await refused(Invalid, usage.usage(admin, UsageQuery(start="2026-12-05", end="2026-12-01")))
        == "to"
    )
    negative = PriceSet.model_construct(per_call=Decimal("-1"), free_requests=0)
    assert await refused(Invalid, prices.set_price(admin, "paid", negative)) == "per_call"
    assert (
        await refused(NotFound, prices.set_price(admin, "nope", PriceSet(per_call=Decimal(1))))
        == "service"
    )
    past = PriceSet(per_call=Decimal(1), effective_from=at("2026-12-10T10:00"))
    assert await refused(Invalid, prices.set_price(admin, "paid", past)) == "effective_from"
    odd = PriceSet(per_call=Decimal(1), effective_from=at("2026-12-11T10:30"))
    assert await refused(Invalid, prices.set_price(admin, "paid", odd)) == "effective_from"
    tool_allowance = PriceSet(per_call=Decimal(1), tool="add", free_requests=5)
    assert await refused(Invalid, prices.set_price(admin, "paid", tool_allowance)) == (
        "free_requests"
    )
    blank_tool = PriceSet(per_call=Decimal(1), tool="  ")
    assert await refused(Invalid, prices.set_price(admin, "paid", blank_tool)) == "tool"
    with pytest.raises(Forbidden):
        await prices.set_price(ann, "paid", PriceSet(per_call=Decimal(1)))
    # Nothing was written by the refusals: the catalog's price is still the only one.
    assert [p.set_by for p in await prices.list_prices(ann, "paid")] == [None]
    # The default is the next whole hour, and setting that hour again replaces it.
    first = await prices.set_price(admin, "paid", PriceSet(per_call=Decimal("0.02")))
    again = await prices.set_price(admin, "paid", PriceSet(per_call=Decimal("0.03")))
    assert first.effective_from == again.effective_from == at("2026-12-10T11:00")
    listed = await prices.list_prices(ann, "paid")
    assert [(p.per_call, p.set_by) for p in listed] == [
        (Decimal("0.01"), None),
        (Decimal("0.03"), "admin"),
    ]
