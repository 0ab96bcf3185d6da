"""The log store forgets by age and by size, on the runtime's schedule; levels follow one
rule; an access line says who called what."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import timedelta
from pathlib import Path

import anyio
import pytest

from mcp_console.backend.gateway.records import RequestRecord
from mcp_console.backend.monitor.log_collector import access_text
from mcp_console.backend.monitor.log_levels import level_of
from mcp_console.backend.monitor.log_store import FILE_NAME, LogStore, StoredLine
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.logs import LogLevel
from mcp_console.settings import MonitorSettings, Settings

DAY = 86400.0
MIB = 2**20


def _lines(count: int, at: float, deployment_id: int = 1) -> list[StoredLine]:
    return [
        StoredLine(at + i * 0.001, deployment_id, "i-1", "stderr", 1, f"line {i} " + "x" * 200)
        for i in range(count)
    ]


def _ids(store: LogStore) -> list[int]:
    conn = store.reader()
    try:
        return [row[0] for row in conn.execute("SELECT id FROM lines ORDER BY id")]
    finally:
        conn.close()


def _on_disk(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


async def test_lines_older_than_the_retention_are_deleted(runtime: Runtime) -> None:
    store = runtime.log_collector.store
    now = time.time()
    await asyncio.to_thread(store.append, _lines(3, now - 3 * DAY) + _lines(2, now - 60))
    keep = MonitorSettings(log_retention=timedelta(days=2))

    removed = await runtime.log_collector.purge(keep)

    assert removed == 3
    assert len(_ids(store)) == 2


async def test_the_oldest_lines_go_once_the_store_is_over_its_size(runtime: Runtime) -> None:
    store = runtime.log_collector.store
    now = time.time()
    for batch in range(15):
        await asyncio.to_thread(store.append, _lines(1000, now - 600 + batch))
    assert store.size_bytes() > 3 * MIB
    newest = _ids(store)[-1]

    await runtime.log_collector.purge(MonitorSettings(log_max_bytes=MIB))

    assert store.size_bytes() <= MIB
    assert _on_disk(store.path) <= MIB
    ids = _ids(store)
    assert ids[-1] == newest  # the newest stay
    assert 0 < len(ids) < 15_000
    assert ids == list(range(ids[0], newest + 1))  # what went is the oldest


async def test_the_running_backend_purges_on_its_schedule(tmp_path: Path, sqlite_url: str) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=sqlite_url,
        gateway_port=0,
        monitor=MonitorSettings(log_retention=timedelta(hours=1)),
    )
    store = LogStore(settings.data_dir / FILE_NAME)
    store.open()
    store.append(_lines(4, time.time() - DAY) + _lines(1, time.time()))
    store.close()

    async with Runtime(settings, migrate=False, background=True) as live:
        with anyio.fail_after(30):
            while len(_ids(live.log_collector.store)) != 1:
                await anyio.sleep(0.1)


@pytest.mark.parametrize(
    ("stream", "text", "level"),
    [
        ("stderr", "ERROR:root:it broke", LogLevel.ERROR),
        ("stderr", "2026-12-07 10:00:00 WARNING something odd", LogLevel.WARN),
        ("stderr", 'time=now level=debug msg="hi"', LogLevel.DEBUG),
        ("stdout", '{"level": "warning", "msg": "careful"}', LogLevel.WARN),
        ("stdout", '{"level": 50, "msg": "pino error"}', LogLevel.ERROR),
        ("stderr", "Traceback (most recent call last):", LogLevel.ERROR),
        ("stderr", "no error here, just prose", LogLevel.INFO),
        ("stderr", "Listening on port 8000", LogLevel.INFO),
        ("console", "process exited with code 1", LogLevel.INFO),
    ],
)
def test_a_line_says_its_own_level_else_it_is_info(stream: str, text: str, level: LogLevel) -> None:
    assert level_of(stream, text) is level


@pytest.mark.parametrize(("status", "level"), [(200, "info"), (404, "warn"), (502, "error")])
def test_an_access_line_is_levelled_by_its_status(status: int, level: str) -> None:
    assert level_of("access", "tools/call", status).value == level


def test_an_access_line_says_who_called_what_in_which_session() -> None:
    record = RequestRecord(
        deployment_id=1,
        instance_id="web-1",
        user_id=7,
        method="tools/call",
        tool_name="echo",
        status=200,
        error=False,
        latency_ms=3.14,
        bytes_in=120,
        bytes_out=456,
        at=0.0,
        session_id=b"3f2a9c",
    )
    assert access_text(record, {7: "alice"}) == (
        "tools/call tool=echo status=200 latency_ms=3.1 in=120 out=456 user=alice session=3f2a9c"
    )
    anonymous = dataclasses.replace(record, user_id=None, tool_name=None, session_id=None)
    assert access_text(anonymous, {}).endswith("user=- session=-")
    assert " tool=- " in access_text(anonymous, {})
