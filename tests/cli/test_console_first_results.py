"""The console's first page of results waits for the database and the catalog only: the rest
of its backend (deployments, API, gateway) loads after it, and still comes up."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mcp_console.backend.daemon import DaemonFiles, holder_of
from mcp_console.backend.db.migrate import head_revisions
from mcp_console.backend.runtime import Runtime
from mcp_console.cli.pending import PendingClient
from mcp_console.cli.tui import ConsoleBackend
from mcp_console.client.local import LocalClient
from mcp_console.schemas.errors import Unavailable
from mcp_console.settings import Settings
from tests.backend.factories import published

ROOT = Path(__file__).resolve().parents[2]
# None of this loads before the first results: migrations (the schema is current, or new and
# created from its snapshot), the container engine, the web stack, the MCP SDK, the scheduler,
# JSON Schema, the HTTP client, PostgreSQL's dialect (on SQLite), and the backend's
# deployments, gateway, API and monitoring.
LATER = (
    "alembic",
    "sqlalchemy.dialects.postgresql",
    "docker",
    "fastapi",
    "starlette",
    "uvicorn",
    "mcp",
    "mcp_types",
    "apscheduler",
    "jsonschema",
    "httpx",
    "mcp_console.backend.api",
    "mcp_console.backend.bridge",
    "mcp_console.backend.deploy",
    "mcp_console.backend.gateway",
    "mcp_console.backend.monitor",
    "mcp_console.client.remote",
)
# The console's backend as the console starts it, noting what is loaded and who holds the
# data dir at the moment its first results are answered.
PROBE = """
import asyncio, json, os, sys
from pathlib import Path

from mcp_console.cli.tui import ConsoleBackend
from mcp_console.settings import Settings


async def main() -> None:
    settings = Settings(data_dir=Path(sys.argv[1]), api_port=0, gateway_port=0)
    backend = ConsoleBackend(settings, say=lambda _: None)
    seen = {}

    async def first_results_answered() -> None:
        from mcp_console.backend.daemon import DaemonFiles, holder_of

        files = DaemonFiles(settings.data_dir)
        holder = holder_of(files)
        seen.update(
            modules=sorted(sys.modules),
            holder=[holder.pid, holder.kind.value] if holder else None,
            api_listed=files.state.exists(),
        )

    backend.start(settled=first_results_answered)
    page = await backend.client.search_services("")
    await backend.client.client()  # the whole backend

    from mcp_console.backend.daemon import DaemonFiles, read_info
    from mcp_console.client.remote import RemoteClient

    info = read_info(DaemonFiles(settings.data_dir))
    async with RemoteClient(info.url, None) as remote:
        health = await remote.health()
    await backend.aclose()
    print(json.dumps({
        **seen,
        "names": [s.name for s in page.items],
        "pid": os.getpid(),
        "api": [info.kind.value, info.pid],
        "health": health,
    }))


asyncio.run(main())
"""


async def _publish_one(settings: Settings) -> None:
    async with Runtime(settings, migrate=False) as runtime:
        assert runtime.local_admin is not None
        await published(runtime, runtime.local_admin, "io.example/weather")


def _first_results(data_dir: Path) -> dict[str, Any]:
    """What the console's backend on ``data_dir`` had loaded when its first results came."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(data_dir)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("MCP_CONSOLE_")},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    seen: dict[str, Any] = json.loads(result.stdout)
    loaded = seen["modules"]
    assert "mcp_console.backend.catalog.service" in loaded
    early = [m for m in loaded if any(m == name or m.startswith(name + ".") for name in LATER)]
    assert early == [], f"loaded before the first results: {', '.join(early[:10])}"
    # The data dir was this console's before anything read it; its API came after.
    assert seen["holder"] == [seen["pid"], "console"]
    assert seen["api_listed"] is False
    assert seen["api"] == ["console", seen["pid"]]
    assert seen["health"]
    return seen


def test_the_first_results_wait_for_the_catalog_only(sqlite_url: str, tmp_path: Path) -> None:
    # The data dir's own database (``sqlite_url`` is its file), migrated already.
    settings = Settings(data_dir=tmp_path)
    assert settings.resolved_database_url == sqlite_url
    asyncio.run(_publish_one(settings))
    assert _first_results(settings.data_dir)["names"] == ["io.example/weather"]


def test_a_new_data_dir_answers_without_running_migrations(tmp_path: Path) -> None:
    # A first start: the schema comes whole from its snapshot, Alembic stays unloaded.
    data_dir = tmp_path / "new"
    assert _first_results(data_dir)["names"] == []
    with sqlite3.connect(data_dir / "mcp-console.db") as connection:
        stamped = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    assert {revision for (revision,) in stamped} == head_revisions()


async def test_other_calls_wait_for_the_whole_backend(runtime: Runtime) -> None:
    assert runtime.local_admin is not None
    await published(runtime, runtime.local_admin, "io.example/weather")
    local = LocalClient(runtime, runtime.local_admin)
    pending = PendingClient()
    searched = asyncio.create_task(pending.search_services(""))
    listed = asyncio.create_task(pending.list_deployments())

    pending.resolve_reads(local)  # the catalog is up
    page = await searched
    await pending.first_reads_answered()
    assert [s.name for s in page.items] == ["io.example/weather"]
    assert not listed.done()

    pending.resolve(local)  # the whole backend is up
    assert await listed == []
    assert pending.ready


async def test_a_backend_that_fails_after_its_catalog_fails_the_waiting_calls(
    runtime: Runtime,
) -> None:
    assert runtime.local_admin is not None
    pending = PendingClient()
    pending.resolve_reads(LocalClient(runtime, runtime.local_admin))
    listed = asyncio.create_task(pending.list_deployments())
    await asyncio.sleep(0)

    pending.fail(Unavailable("the gateway cannot listen on 127.0.0.1:8766"))
    with pytest.raises(Unavailable, match="gateway cannot listen"):
        await listed
    assert (await pending.search_services("")).total == 0  # what answered goes on answering


async def test_a_console_ending_after_its_first_results_is_not_kept_waiting(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, api_port=0, gateway_port=0)
    assert settings.resolved_database_url == sqlite_url
    backend = ConsoleBackend(settings, say=lambda _: None)

    async def drawn() -> None:
        await asyncio.Event().wait()  # a screen that has ended never draws again

    backend.start(settled=drawn)
    await backend.client.search_services("")

    # Bounded only so that a hang fails the test instead of stalling the run.
    async with asyncio.timeout(120):
        await backend.aclose()
    assert holder_of(DaemonFiles(tmp_path)) is None  # the data dir is free again
    assert backend.error is None
