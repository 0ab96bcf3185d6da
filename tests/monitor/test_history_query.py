"""A deployment's history over each range, split by instance, tool or user, with its tools'
figures; only for those who may see the deployment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from mcp_console.backend.monitor.history_query import MetricsHistoryService
from mcp_console.backend.monitor.history_recorder import InstanceGauges
from mcp_console.backend.monitor.history_writer import HistoryWriter
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.deploy import ShareCreate
from mcp_console.schemas.errors import Invalid, NotFound
from mcp_console.schemas.monitor import Breakdown, HistoryRange
from mcp_console.schemas.users import Principal, Role
from mcp_console.settings import MonitorSettings
from tests.backend.factories import make_user
from tests.monitor.history_helpers import T0, Clock, deployment_rows, request, varied

SETTINGS = MonitorSettings(keep_10s=timedelta(hours=1), keep_1m=timedelta(hours=6))
NOW = T0 + 3 * 3600 + 5  # just past the third hour


@dataclass
class World:
    runtime: Runtime
    clock: Clock
    writer: HistoryWriter
    history: MetricsHistoryService
    alice: Principal
    bob: Principal
    carol: Principal
    calc: int


@pytest.fixture
async def world(runtime: Runtime) -> World:
    alice = await make_user(runtime, "alice", Role.USER)
    bob = await make_user(runtime, "bob", Role.USER)
    carol = await make_user(runtime, "carol", Role.USER)
    (calc,) = await deployment_rows(runtime.engine, alice.user_id, "calc")
    clock = Clock(NOW)
    writer = HistoryWriter(runtime.engine, SETTINGS, clock=clock)
    history = MetricsHistoryService(runtime.sessions, SETTINGS, clock=clock)
    return World(runtime, clock, writer, history, alice, bob, carol, calc)


async def test_the_last_minutes_split_by_tool_with_each_tools_figures(world: World) -> None:
    w = world
    users = [w.alice.user_id, w.bob.user_id]
    for i in range(60):
        w.writer.recorder.record(
            request(w.calc, NOW - 600 + i * 5, tool="add", latency_ms=3, user=w.alice.user_id)
        )
    for i in range(20):
        code = -32601 if i % 4 == 0 else False
        w.writer.recorder.record(
            request(
                w.calc, NOW - 300 + i, tool="echo", latency_ms=400, user=users[i % 2], error=code
            )
        )
    w.writer.recorder.record(request(w.calc, NOW - 100, tool=None, user=None))
    await w.writer.flush()

    h = await w.history.history(w.alice, "calc", "15m", "tool")
    assert (h.period, h.step_s, len(h.total.points), h.by) == (
        HistoryRange.MINUTES_15,
        10,
        90,
        Breakdown.TOOL,
    )
    assert h.deployment == "calc"
    assert h.total.requests == 81
    assert h.total.errors == sum(p.errors_rpc for p in h.total.points) == 5
    assert {s.key: s.requests for s in h.breakdown} == {
        "add": 60,
        "echo": 20,
        "(not a tool call)": 1,
    }
    add, echo = h.tools
    assert (add.tool, add.calls, add.errors) == ("add", 60, 0)
    assert (echo.tool, echo.calls, echo.errors) == ("echo", 20, 5)
    assert add.p95_ms is not None
    assert 2.5 < add.p95_ms <= 5
    assert echo.p95_ms is not None
    assert 250 < echo.p95_ms <= 500
    assert sum(p.bytes_out for p in h.total.points) == 81 * 300

    by_user = await w.history.history(w.alice, "calc", "1h", "user")
    assert {s.key: s.requests for s in by_user.breakdown} == {
        "alice": 70,
        "bob": 10,
        "(anonymous)": 1,
    }


async def test_every_range_counts_each_request_once_across_tiers(world: World) -> None:
    w = world
    records = varied([w.calc], [w.alice.user_id], T0, 3 * 3600 - 5, 3000)
    w.clock.now = T0
    for record in records:
        w.writer.recorder.record(record)
    await w.writer.flush()
    w.clock.now = NOW
    await w.writer.roll_up()  # minutes and the first hours summed; 10 s rows of the last hour
    late = [request(w.calc, NOW - 20 + s) for s in range(10)]
    for record in late:
        w.writer.recorder.record(record)
    await w.writer.flush()

    ended = [r.at + r.latency_ms / 1000 for r in records + late]
    for period in ("24h", "7d", "30d"):
        h = await w.history.history(w.alice, "calc", period, "instance")
        assert h.total.requests == len(ended), period
        assert sum(s.requests for s in h.breakdown) == len(ended)
        assert len(h.total.points) <= 300
    hour = await w.history.history(w.alice, "calc", "1h")
    start, end = hour.start.timestamp(), hour.end.timestamp()
    assert hour.total.requests == len([t for t in ended if start <= t < end])
    assert hour.breakdown == []


async def test_instance_series_carry_cpu_memory_and_restarts(world: World) -> None:
    w = world
    bucket = int(NOW - 60) // 10 * 10
    for name, cpu in (("i-a", 20.0), ("i-b", 30.0)):
        gauges = InstanceGauges(sessions_max=2, restarts=1)
        gauges.read(cpu, 64.0)
        w.writer.recorder.add_gauges({(w.calc, bucket, name): gauges})
        w.writer.recorder.record(request(w.calc, NOW - 60, instance=name))
    await w.writer.flush()
    h = await w.history.history(w.alice, "calc", "15m", "instance")
    point = next(p for p in h.total.points if p.at.timestamp() == bucket)
    assert (point.cpu_percent, point.memory_mb, point.restarts, point.sessions_max) == (
        50.0,
        128.0,
        2,
        4,
    )
    series = {s.key: s for s in h.breakdown}
    a = next(p for p in series["i-a"].points if p.at.timestamp() == bucket)
    assert (a.cpu_percent, a.memory_mb, a.restarts) == (20.0, 64.0, 1)
    # Before anything was read, an instance figure is unknown, not zero.
    assert h.total.points[0].cpu_percent is None


async def test_only_those_who_may_see_the_deployment_read_its_history(world: World) -> None:
    w = world
    w.writer.recorder.record(request(w.calc, NOW - 30))
    await w.writer.flush()
    with pytest.raises(NotFound):
        await w.history.history(w.bob, "calc", "1h")
    with pytest.raises(NotFound):
        await w.history.history(w.bob, "alice/calc", "1h")
    await w.runtime.deployments.share(w.alice, "calc", ShareCreate(user="bob"))
    shared = await w.history.history(w.bob, "alice/calc", "1h")
    assert (shared.deployment, shared.total.requests) == ("alice/calc", 1)
    with pytest.raises(NotFound):
        await w.history.history(w.carol, "alice/calc", "1h")
    admin = w.runtime.local_admin
    assert admin is not None
    assert (await w.history.history(admin, "alice/calc", "15m")).total.requests == 1


async def test_an_unknown_range_or_breakdown_is_named(world: World) -> None:
    w = world
    with pytest.raises(Invalid, match="'2w'") as bad_range:
        await w.history.history(w.alice, "calc", "2w")
    assert bad_range.value.field == "range"
    with pytest.raises(Invalid, match="'region'") as bad_by:
        await w.history.history(w.alice, "calc", "1h", "region")
    assert bad_by.value.field == "by"
