"""``kill -9`` of the daemon while calls are in flight: nothing unserved is billed, what was
served and never written is reported by the restart exactly, and durable metering loses
nothing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import anyio

from mcp_console.backend.daemon import DaemonFiles, read_info, read_token
from mcp_console.backend.gateway.usage_journal import COUNTED, JOURNAL_FILE, journal_counts
from mcp_console.backend.runtime import Runtime
from mcp_console.client.remote import RemoteClient
from mcp_console.schemas.audit import AuditQuery
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.schemas.errors import Unavailable
from mcp_console.settings import Settings
from tests.deploy.catalogs import SETTLE_TIMEOUT, all_healthy, process_version, publish
from tests.gateway.helpers import Caller, connect, result_of

START_TIMEOUT = 60.0
CALLERS = 8  # concurrent SDK clients
CALLS = 25  # calls each, per wave
IN_FLIGHT = 4  # calls still running upstream when the daemon is killed


class Daemon:
    """``mcp-console daemon`` as a real process on one data dir, its deployments local."""

    def __init__(self, data_dir: Path, *, durable: bool) -> None:
        self.files = DaemonFiles(data_dir)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("MCP_CONSOLE_")},
            "MCP_CONSOLE_DATA_DIR": str(data_dir),
            "MCP_CONSOLE_API_PORT": "0",
            "MCP_CONSOLE_GATEWAY_PORT": "0",
            "MCP_CONSOLE_RUNTIME": "process",
            "MCP_CONSOLE_DEPLOY__SCOPE": "test-" + uuid.uuid4().hex[:10],
            "MCP_CONSOLE_DEPLOY__HEALTH_INTERVAL": "1",
            "MCP_CONSOLE_DEPLOY__STOP_TIMEOUT": "2",
            "MCP_CONSOLE_BILLING__DURABLE_METERING": "true" if durable else "false",
        }
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> RemoteClient:
        with (self.files.data_dir / "daemon-test.log").open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "mcp_console", "daemon"],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        with anyio.fail_after(START_TIMEOUT):
            while True:
                assert self.process.poll() is None, "the daemon exited while starting"
                info = read_info(self.files)
                if info is not None and info.pid == self.process.pid:
                    client = RemoteClient(info.url, read_token(self.files))
                    try:
                        await client.health()
                        return client
                    except Unavailable:
                        await client.aclose()
                await anyio.sleep(0.1)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no clean-up of any kind
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


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


async def wave(url: str, caller: Caller) -> int:
    """``CALLERS`` clients calling ``CALLS`` times each at once: the calls served."""
    served = 0

    async def one() -> None:
        nonlocal served
        async with connect(url, caller) as client:
            for i in range(CALLS):
                assert await result_of(client, "add", {"a": i, "b": 1}) == i + 1
                served += 1

    async with asyncio.TaskGroup() as group:
        for _ in range(CALLERS):
            group.create_task(one())
    return served


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
    daemon = Daemon(daemon_dir, durable=False)
    try:
        async with await daemon.start() as client:
            url = await endpoint(client)
            served = await wave(url, caller)
            # Written within a flush interval.
            await until(lambda: billed(database) == served, "the first wave was not written")
            # The database is held by another writer: from here on nothing is written.
            lock = sqlite3.connect(database, isolation_level=None, timeout=30)
            lock.execute("BEGIN IMMEDIATE")
            try:
                slow = await in_flight(url, caller)
                served += await wave(url, caller)
                await until(
                    lambda: (journal_counts(journal) or (0,))[COUNTED] == served,
                    "the journal did not count every call served",
                )
                daemon.kill()
            finally:
                lock.rollback()
                lock.close()
            assert not any(await asyncio.gather(*slow))  # killed mid-flight: none served
        billed_at_kill = billed(database)
        async with await daemon.start() as client:
            events = await client.audit_events(AuditQuery(kind="metering"))
        assert billed(database) == billed_at_kill  # the restart bills nothing lost
    finally:
        daemon.stop()

    assert billed_at_kill <= served
    assert served - billed_at_kill == CALLERS * CALLS  # the second wave, never written
    assert reported(database) == [(served - billed_at_kill, 0)]
    assert [(e.kind, e.detail["requests"], e.detail["errors"]) for e in events] == [
        ("metering.usage.lost", served - billed_at_kill, 0)
    ]


async def test_with_durable_metering_every_call_served_before_kill_9_is_billed(
    tmp_path: Path,
) -> None:
    daemon_dir = tmp_path / "data"
    caller = await prepared(daemon_dir)
    database = daemon_dir / "mcp-console.db"
    daemon = Daemon(daemon_dir, durable=True)
    try:
        async with await daemon.start() as client:
            url = await endpoint(client)
            slow = await in_flight(url, caller)
            served = await wave(url, caller)
            daemon.kill()  # at once: no flush interval has passed since the last reply
            assert not any(await asyncio.gather(*slow))
        billed_at_kill = billed(database)
        async with await daemon.start() as client:
            events = await client.audit_events(AuditQuery(kind="metering"))
    finally:
        daemon.stop()

    assert billed_at_kill == served == CALLERS * CALLS
    assert reported(database) == []
    assert events == []
