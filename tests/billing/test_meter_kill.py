"""``kill -9`` of the daemon while calls are in flight: nothing unserved is billed, what was
served and never written is reported by the restart exactly, and durable metering loses
nothing."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path

import anyio

from mcp_console.backend.gateway.usage_journal import COUNTED, JOURNAL_FILE, journal_counts
from mcp_console.backend.runtime import Runtime
from mcp_console.client.remote import RemoteClient
from mcp_console.schemas.audit import AuditQuery
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.settings import Settings
from tests.daemon_process import DaemonProcess
from tests.deploy.catalogs import SETTLE_TIMEOUT, all_healthy, process_version, publish
from tests.gateway.helpers import Caller, connect, result_of

CALLERS = 8  # concurrent SDK clients
CALLS = 25  # calls each, per wave
IN_FLIGHT = 4  # calls still running upstream when the daemon is killed


def daemon(data_dir: Path, *, durable: bool) -> DaemonProcess:
    """The daemon on ``data_dir``, its deployments local processes."""
    return DaemonProcess(
        data_dir,
        {
            "MCP_CONSOLE_RUNTIME": "process",
            "MCP_CONSOLE_DEPLOY__SCOPE": "test-" + uuid.uuid4().hex[:10],
            "MCP_CONSOLE_DEPLOY__HEALTH_INTERVAL": "1",
            "MCP_CONSOLE_DEPLOY__STOP_TIMEOUT": "2",
            "MCP_CONSOLE_BILLING__DURABLE_METERING": "true" if durable else "false",
        },
    )


def billed(database: Path) -> int:
    """Successful billable calls in the usage rows (what callers are charged for)."""
    with contextlib.closing(sqlite3.connect(database)) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(request_count - error_count), 0) FROM service_usage"
        ).fetchone()
    return int(row[0])


def reported(database: Path) -> list[tuple[int, int]]:
    """The losses the restarts recorded, as (requests, errors)."""
    with contextlib.closing(sqlite3.connect(database)) as conn:
        rows = conn.execute(
            "SELECT lost_requests, lost_errors FROM usage_journals WHERE lost_requests > 0"
        ).fetchall()
    return [(int(r[0]), int(r[1])) for r in rows]


async def prepared(data_dir: Path) -> Caller:
    """A published service on local processes and an API key of the admin."""
    async with Runtime(Settings(data_dir=data_dir)) as runtime:
        admin = await publish(runtime, "metered", process_version("1.0.0"))
        key = await runtime.users.create_key(admin, admin.name, label="load")
    return Caller(admin, key)


class Load:
    """``CALLERS`` SDK clients calling a tool at once, ``calls`` times each at most, counting
    the calls served (a successful result received)."""

    def __init__(self, url: str, caller: Caller, calls: int) -> None:
        self.url = url
        self.caller = caller
        self.calls = calls
        self.served = 0
        self.killing = False  # from then on a failed call ends its client quietly
        self._tasks = [asyncio.create_task(self._client()) for _ in range(CALLERS)]

    async def _client(self) -> None:
        try:
            async with connect(self.url, self.caller) as client:
                for i in range(self.calls):
                    assert await result_of(client, "add", {"a": i, "b": 1}) == i + 1
                    self.served += 1
        except Exception:
            if not self.killing:
                raise

    async def until_served(self, count: int) -> None:
        """Wait (bounded) until ``count`` calls were served."""
        with anyio.fail_after(SETTLE_TIMEOUT):
            while self.served < count:
                await asyncio.sleep(0.005)

    async def done(self) -> int:
        """Every client finished (or broke off, once killing): the calls served."""
        await asyncio.gather(*self._tasks)
        return self.served


async def wave(url: str, caller: Caller) -> int:
    """``CALLERS`` clients calling ``CALLS`` times each at once, all served: the calls."""
    return await Load(url, caller, CALLS).done()


async def slow_call(url: str, caller: Caller) -> bool:
    """A call the daemon is killed in the middle of: whether it was served (it is not)."""
    try:
        async with connect(url, caller) as client:
            await result_of(client, "sleep", {"seconds": 60})
    except Exception:
        return False
    return True


async def in_flight(url: str, caller: Caller) -> list[asyncio.Task[bool]]:
    """``IN_FLIGHT`` slow calls started (their sessions open before the load goes on)."""
    return [asyncio.create_task(slow_call(url, caller)) for _ in range(IN_FLIGHT)]


async def until(predicate: Callable[[], bool], what: str) -> None:
    """Wait (bounded) until ``predicate`` holds."""
    with anyio.move_on_after(SETTLE_TIMEOUT):
        while not await asyncio.to_thread(predicate):
            await asyncio.sleep(0.05)
    assert await asyncio.to_thread(predicate), what


async def endpoint(client: RemoteClient) -> str:
    """Deploy the service and wait until it serves: its gateway URL."""
    await client.create_deployment(
        DeploymentCreate(service="metered", name="metered", runtime=RuntimeChoice.PROCESS)
    )
    with anyio.fail_after(SETTLE_TIMEOUT):
        while not all_healthy(detail := await client.get_deployment("metered")):
            await asyncio.sleep(0.2)
    assert detail.endpoint_url is not None
    return detail.endpoint_url


async def test_calls_served_and_never_written_before_kill_9_are_what_the_restart_reports(
    tmp_path: Path,
) -> None:
    daemon_dir = tmp_path / "data"
    caller = await prepared(daemon_dir)
    database = daemon_dir / "mcp-console.db"
    journal = daemon_dir / JOURNAL_FILE
    running = daemon(daemon_dir, durable=False)
    try:
        async with await running.start() as client:
            url = await endpoint(client)
            served = await wave(url, caller)
            # Written within a flush interval.
            await until(lambda: billed(database) == served, "the first wave was not written")
            # The database is held by another writer: from here on nothing is written.
            lock = sqlite3.connect(database, isolation_level=None, timeout=30)
            lock.execute("BEGIN IMMEDIATE")
            try:
                slow = await in_flight(url, caller)
                load = Load(url, caller, 4 * CALLS)
                await load.until_served(CALLERS * CALLS)
                load.killing = True
                running.kill_between_steps()  # mid-load: every client has a call going
            finally:
                lock.rollback()
                lock.close()
            assert not any(await asyncio.gather(*slow))  # killed mid-flight: none served
            second = await load.done()
            served += second
        # What the killed run's journal counted: exactly the calls served.
        counts = journal_counts(journal)
        assert counts is not None
        assert counts[COUNTED] == served
        billed_at_kill = billed(database)
        async with await running.start() as client:
            events = await client.audit_events(AuditQuery(kind="metering"))
            state = await client.metering_state()
        assert billed(database) == billed_at_kill  # the restart bills nothing lost
        log = running.log_tail(400)
    finally:
        running.stop()

    assert CALLERS * CALLS <= second < 4 * CALLERS * CALLS  # killed in the middle
    assert billed_at_kill <= served
    assert served - billed_at_kill == second  # the second wave, never written
    assert reported(database) == [(served - billed_at_kill, 0)]
    assert [(e.kind, e.detail["requests"], e.detail["errors"]) for e in events] == [
        ("metering.usage.lost", served - billed_at_kill, 0)
    ]
    assert f"the last run was killed after serving {second} billable calls it never wrote" in log
    # The API's figure says the same.
    assert (state.durable, state.journal, state.lost_calls) == (False, True, second)
    assert [(loss.calls, loss.failed) for loss in state.losses] == [(second, 0)]


async def test_with_durable_metering_every_call_served_before_kill_9_is_billed(
    tmp_path: Path,
) -> None:
    daemon_dir = tmp_path / "data"
    caller = await prepared(daemon_dir)
    database = daemon_dir / "mcp-console.db"
    running = daemon(daemon_dir, durable=True)
    try:
        async with await running.start() as client:
            url = await endpoint(client)
            slow = await in_flight(url, caller)
            load = Load(url, caller, 4 * CALLS)
            await load.until_served(CALLERS * CALLS)
            load.killing = True
            running.kill_between_steps()  # mid-load: every client has a call going
            assert not any(await asyncio.gather(*slow))
            served = await load.done()
        billed_under_load = billed(database)
        async with await running.start() as client:
            with anyio.fail_after(SETTLE_TIMEOUT):
                while not all_healthy(detail := await client.get_deployment("metered")):
                    await asyncio.sleep(0.2)
            assert detail.endpoint_url is not None
            served_after = await wave(detail.endpoint_url, caller)
            running.kill()  # at once: no flush interval has passed since the last reply
        billed_at_kill = billed(database)
        async with await running.start() as client:
            events = await client.audit_events(AuditQuery(kind="metering"))
            state = await client.metering_state()
    finally:
        running.stop()

    assert (state.durable, state.lost_calls, state.losses) == (True, 0, [])
    assert CALLERS * CALLS <= served < 4 * CALLERS * CALLS  # killed in the middle
    # Nothing served is unbilled; a call written whose reply had not gone out yet when the
    # process died is billed unserved (at most one per client: each has one call going).
    assert served <= billed_under_load <= served + CALLERS
    # Once the calls are over, billed is served exactly, however soon after the kill comes.
    assert billed_at_kill - billed_under_load == served_after == CALLERS * CALLS
    assert reported(database) == []
    assert events == []
