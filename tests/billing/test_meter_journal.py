"""The meter's crash journal and durable metering: a run killed before writing is reported by
the next one exactly, once; a durable call returns only once its usage is in the tables."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from mcp_console.backend.db.models import ServiceUsage
from mcp_console.backend.db.models_metering import UsageJournal as JournalRow
from mcp_console.backend.gateway.meter import UsageMeter
from mcp_console.backend.gateway.records import RequestRecord
from mcp_console.backend.gateway.usage_journal import (
    COUNTED,
    DISCARDED,
    journal_counts,
    open_journal,
)
from tests.gateway.test_metering import World, database_url, engine, world  # noqa: F401


def call(
    world: World,  # noqa: F811
    *,
    error: bool = False,
    method: str = "tools/call",
) -> RequestRecord:
    """A finished call of user 0 to the paid deployment, served by an instance."""
    return RequestRecord(
        deployment_id=world.paid,
        instance_id="i0",
        user_id=world.users[0],
        method=method,
        tool_name="add" if method == "tools/call" else None,
        status=500 if error else 200,
        error=error,
        latency_ms=1.5,
        bytes_in=40,
        bytes_out=60,
        at=time.time(),
    )


async def billed(engine: AsyncEngine) -> tuple[int, int]:  # noqa: F811
    """Requests and errors in the daily usage rows."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(
                    func.coalesce(func.sum(ServiceUsage.request_count), 0),
                    func.coalesce(func.sum(ServiceUsage.error_count), 0),
                )
            )
        ).one()
    return int(row[0]), int(row[1])


async def test_calls_never_written_before_a_crash_are_reported_once_by_the_next_run(
    engine: AsyncEngine,  # noqa: F811
    world: World,  # noqa: F811
    tmp_path: Path,
) -> None:
    path = tmp_path / "usage-journal"
    journal, loss = await open_journal(engine, path)
    assert journal is not None
    assert loss is None
    meter = UsageMeter(engine, journal=journal, flush_interval=60)
    for error in (False, False, True, False, True):
        meter.record(call(world, error=error))
    meter.record(call(world, method="tools/list"))  # not billable: never counted
    await meter.flush()
    for error in (False, True, False, False):
        meter.record(call(world, error=error))
    # Another process sees the counts as they are stored (the kernel holds them).
    assert journal_counts(path) == (9, 3, 0, 0, 0, 0)
    journal.close()  # killed: the last four calls were served and never written

    again, loss = await open_journal(engine, path)
    assert again is not None
    assert loss is not None
    assert (loss.lost_requests, loss.lost_errors) == (4, 1)
    assert loss.started_at is not None
    assert await billed(engine) == (5, 2)
    assert journal_counts(path) == (0, 0, 0, 0, 0, 0)  # the new run starts from nothing
    again.close()

    # Recovered once: a run that wrote everything (or a repeat) reports nothing more.
    third, loss = await open_journal(engine, path)
    assert third is not None
    assert loss is None
    third.close()
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(JournalRow.written_requests, JournalRow.lost_requests).order_by(
                    JournalRow.started_at
                )
            )
        ).all()
    assert next(tuple(r) for r in rows) == (5, 4)


async def test_a_journal_held_by_another_run_is_left_alone(
    engine: AsyncEngine,  # noqa: F811
    world: World,  # noqa: F811
    tmp_path: Path,
) -> None:
    path = tmp_path / "usage-journal"
    held, _ = await open_journal(engine, path)
    assert held is not None
    second, loss = await open_journal(engine, path)
    assert second is None
    assert loss is None
    held.close()


async def test_a_durable_call_returns_once_its_usage_is_written(
    engine: AsyncEngine,  # noqa: F811
    world: World,  # noqa: F811
    tmp_path: Path,
) -> None:
    journal, _ = await open_journal(engine, tmp_path / "usage-journal")
    # A long interval: only the calls waiting make the meter write.
    async with UsageMeter(engine, journal=journal, durable=True, flush_interval=60) as meter:
        await meter.settle(call(world))
        assert await billed(engine) == (1, 0)
        await meter.settle(call(world, error=True))
        assert await billed(engine) == (2, 1)
        await meter.settle(call(world, method="initialize"))  # not billable: no wait
        assert meter.pending_requests == 0


async def test_a_durable_call_whose_usage_cannot_be_written_is_refused_and_not_billed(
    engine: AsyncEngine,  # noqa: F811
    world: World,  # noqa: F811
    tmp_path: Path,
) -> None:
    path = tmp_path / "usage-journal"
    journal, _ = await open_journal(engine, path)
    async with UsageMeter(engine, journal=journal, durable=True, flush_interval=60) as meter:
        await meter.settle(call(world))
        async with engine.begin() as conn:
            await conn.execute(text("ALTER TABLE service_usage RENAME TO service_usage_away"))
        try:
            refused = False
            try:
                await meter.settle(call(world))
            except Exception:
                refused = True
            assert refused, "a call whose usage could not be written was let through"
            assert meter.pending_requests == 0  # dropped, not kept to be billed later
        finally:
            async with engine.begin() as conn:
                await conn.execute(text("ALTER TABLE service_usage_away RENAME TO service_usage"))
    assert await billed(engine) == (1, 0)
    counts = journal_counts(path)
    assert counts is not None
    assert (counts[COUNTED], counts[DISCARDED]) == (2, 1)
    # Refused on purpose is not lost: the next run has nothing to report.
    last, loss = await open_journal(engine, path)
    assert last is not None
    assert loss is None
    last.close()


async def test_a_durable_call_still_waiting_on_its_write_at_a_crash_is_not_reported_lost(
    engine: AsyncEngine,  # noqa: F811
    world: World,  # noqa: F811
    tmp_path: Path,
) -> None:
    path = tmp_path / "usage-journal"
    journal, _ = await open_journal(engine, path)
    # Not started: nothing writes, so the call waits (its reply would wait with it).
    meter = UsageMeter(engine, journal=journal, durable=True, flush_interval=60)
    meter.record(call(world))  # served: its reply went out before this crash
    waiting = asyncio.create_task(meter.settle(call(world)))
    await asyncio.sleep(0)
    assert not waiting.done()
    assert journal is not None
    journal.close()  # killed
    waiting.cancel()
    with contextlib.suppress(BaseException):  # its process is gone, whatever it raises
        await waiting

    again, loss = await open_journal(engine, path)
    assert again is not None
    assert loss is not None
    assert (loss.lost_requests, loss.lost_errors) == (1, 0)  # the served one alone
    again.close()
