"""The metrics history is written in batches, summed into minutes and hours exactly, and
trimmed per tier, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from mcp_console.backend.db.engine import create_engine, session_factory
from mcp_console.backend.db.models import ServiceDeployment, User
from mcp_console.backend.db.models_history import Grain, metrics_instances, metrics_traffic
from mcp_console.backend.monitor import history_store, history_writer
from mcp_console.backend.monitor.history_recorder import InstanceGauges
from mcp_console.backend.monitor.history_writer import HistoryWriter
from mcp_console.backend.monitor.request_outcome import ErrorKind, error_kind
from mcp_console.settings import MonitorSettings
from tests.monitor.history_helpers import (
    T0,
    Clock,
    deployment_rows,
    expected_sums,
    request,
    tier_sums,
    varied,
)

SETTINGS = MonitorSettings(keep_10s=timedelta(hours=1), keep_1m=timedelta(hours=6))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def users(engine: AsyncEngine) -> list[int]:
    async with session_factory(engine)() as session, session.begin():
        rows = [User(name=f"user-{i}", role="user") for i in range(3)]
        session.add_all(rows)
        await session.flush()
        return [u.id for u in rows]


@pytest.fixture
async def deployments(engine: AsyncEngine, users: list[int]) -> list[int]:
    return await deployment_rows(engine, users[0], "calc", "notes")


def test_each_failure_has_one_kind() -> None:
    at = T0
    assert error_kind(request(1, at)) is None
    assert error_kind(request(1, at, error=-32601)) is ErrorKind.RPC
    assert error_kind(request(1, at, status=502, error=True)) is ErrorKind.HTTP
    assert error_kind(request(1, at, status=500)) is ErrorKind.HTTP
    assert error_kind(request(1, at, instance=None, status=429, error=True)) is ErrorKind.REFUSED
    # A client leaving early is no failure of the deployment.
    assert error_kind(request(1, at, status=499)) is None


async def test_minutes_and_hours_add_up_to_the_requests_exactly(
    engine: AsyncEngine, users: list[int], deployments: list[int]
) -> None:
    clock = Clock()
    writer = HistoryWriter(engine, SETTINGS, clock=clock)
    records = varied(deployments, users, T0, 3 * 3600, 5000)
    for chunk in range(0, len(records), 700):  # written over several flushes
        for record in records[chunk : chunk + 700]:
            writer.recorder.record(record)
        await writer.flush()
    raw = expected_sums(records)
    assert min(raw["errors_rpc"], raw["errors_http"], raw["errors_refused"]) > 0
    for grain in Grain:
        assert await tier_sums(engine, 10, grain=grain) == raw, grain

    clock.now = T0 + 5 * 3600  # the slowest requests ended in the fourth hour
    await writer.roll_up()
    await writer.roll_up()  # again: nothing is counted twice
    # Every grain adds up to the same: the whole deployment, or each instance, tool and
    # user (together, or alone).
    for grain in Grain:
        for tier in (60, 3600):
            assert await tier_sums(engine, tier, grain=grain) == raw, (grain, tier)


async def test_a_minute_is_summed_only_once_nothing_of_it_waits(
    engine: AsyncEngine, users: list[int], deployments: list[int]
) -> None:
    clock = Clock(T0 + 600)
    writer = HistoryWriter(engine, SETTINGS, clock=clock)
    first = [request(deployments[0], T0 + s) for s in range(0, 120, 5)]
    for record in first:
        writer.recorder.record(record)
    await writer.flush()
    late = [request(deployments[0], T0 + 200 + s) for s in range(10)]
    for record in late:
        writer.recorder.record(record)  # counted, not written yet
    await writer.roll_up()
    assert (await tier_sums(engine, 60))["requests"] == len(first)

    await writer.flush()
    await writer.roll_up()
    assert (await tier_sums(engine, 60))["requests"] == len(first) + len(late)


async def test_gauges_keep_their_highest_and_add_their_restarts(
    engine: AsyncEngine, deployments: list[int]
) -> None:
    clock = Clock(T0)
    writer = HistoryWriter(engine, SETTINGS, clock=clock)
    calc = deployments[0]
    for second in range(0, 120, 5):
        clock.now = T0 + second
        gauges = InstanceGauges(sessions_max=second // 10, restarts=1 if second % 60 == 0 else 0)
        gauges.read(10.0 + second, 50.0)
        writer.recorder.add_gauges({(calc, int(clock.now) // 10 * 10, "i-a"): gauges})
        writer.recorder.inflight_changed(calc, "i-a", +1 if second < 60 else -1)
        await writer.flush()
    clock.now = T0 + 3600 * 2
    await writer.roll_up()
    g = metrics_instances.c
    async with engine.connect() as conn:
        hour = (await conn.execute(select(metrics_instances).where(g.tier == 3600))).one()
    assert hour.restarts == 2
    assert hour.sessions_max == 11
    assert hour.in_flight_max == 12
    assert hour.cpu_n == 24
    assert hour.cpu_sum == pytest.approx(sum(10.0 + s for s in range(0, 120, 5)))
    assert hour.cpu_max == pytest.approx(125.0)
    assert hour.memory_max == pytest.approx(50.0)


async def test_each_tier_is_kept_for_its_own_time(
    engine: AsyncEngine, users: list[int], deployments: list[int]
) -> None:
    clock = Clock()
    writer = HistoryWriter(engine, SETTINGS, clock=clock)
    records = varied(deployments, users, T0, 12 * 3600, 3000)
    for record in records:
        writer.recorder.record(record)
    await writer.flush()
    clock.now = T0 + 12 * 3600
    await writer.roll_up()

    t = metrics_traffic.c
    async with engine.connect() as conn:
        rows = await conn.execute(select(t.tier, func.min(t.bucket)).group_by(t.tier))
        oldest = {int(tier): int(low) for tier, low in rows}
    assert oldest[10] >= clock.now - 3600
    assert oldest[60] >= clock.now - 6 * 3600
    assert oldest[3600] == T0  # kept 90 days
    # What is left of a tier still adds up to the requests of its time.
    recent = [r for r in records if r.at + r.latency_ms / 1000 >= oldest[60]]
    summed_recent = await tier_sums(engine, 60, before=clock.now - 60)
    assert summed_recent["requests"] == len(
        [r for r in recent if r.at + r.latency_ms / 1000 < clock.now - 60]
    )


async def test_a_finer_bucket_stays_until_it_is_summed(
    engine: AsyncEngine, deployments: list[int]
) -> None:
    clock = Clock(T0)
    writer = HistoryWriter(engine, SETTINGS, clock=clock)
    writer.recorder.record(request(deployments[0], T0))
    await writer.flush()
    writer.recorder.record(request(deployments[0], T0 + 30))  # still waiting for the next flush
    clock.now = T0 + 5 * 3600  # long past keep_10s
    await writer.roll_up()
    # Its minute is not over while a request of it waits: the written one stays unsummed.
    assert (await tier_sums(engine, 10))["requests"] == 1
    assert (await tier_sums(engine, 60))["requests"] == 0
    await writer.flush()
    await writer.roll_up()
    assert (await tier_sums(engine, 10))["requests"] == 0
    assert (await tier_sums(engine, 60))["requests"] == 2


def _counting(engine: AsyncEngine) -> list[str]:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    return statements


async def test_one_flush_takes_the_same_statements_for_ten_or_five_thousand_requests(
    engine: AsyncEngine, users: list[int], deployments: list[int]
) -> None:
    writer = HistoryWriter(engine, SETTINGS, clock=Clock(T0 + 4000))
    statements = _counting(engine)
    counts = []
    for n in (10, 5000):
        for record in varied(deployments, users, T0, 3600, n):
            writer.recorder.record(record)
        writer.recorder.inflight_changed(deployments[0], "i-a", +1)
        statements.clear()
        await writer.flush()
        counts.append(len([s for s in statements if s != "BEGIN"]))
    assert counts[0] == counts[1] == 2  # one for traffic, one for instance gauges


async def test_a_failed_write_keeps_its_counts_for_the_next(
    engine: AsyncEngine, users: list[int], deployments: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = HistoryWriter(engine, SETTINGS, clock=Clock(T0 + 4000))
    records = varied(deployments, users, T0, 600, 400)
    for record in records[:300]:
        writer.recorder.record(record)
    real = history_store.write_batch

    async def unavailable(*_args: Any) -> None:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(history_writer, "write_batch", unavailable)
    with pytest.raises(OperationalError):
        await writer.flush()
    monkeypatch.setattr(history_writer, "write_batch", real)
    for record in records[300:]:
        writer.recorder.record(record)
    await writer.aclose()
    assert await tier_sums(engine, 10) == expected_sums(records)


async def test_counts_of_a_deleted_deployment_are_dropped_not_the_others(
    engine: AsyncEngine, users: list[int], deployments: list[int]
) -> None:
    writer = HistoryWriter(engine, SETTINGS, clock=Clock(T0 + 4000))
    calc, notes = deployments
    for s in range(20):
        writer.recorder.record(request(calc, T0 + s))
        writer.recorder.record(request(notes, T0 + s))
    async with engine.begin() as conn:
        await conn.execute(delete(ServiceDeployment).where(ServiceDeployment.id == notes))
    await writer.flush()
    assert (await tier_sums(engine, 10))["requests"] == 20
    assert writer.dropped == 20
