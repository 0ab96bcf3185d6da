"""``logs search`` and ``deploy logs`` read the kept lines; bad queries are named."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mcp_console.backend.monitor.log_store import FILE_NAME, LogStore, StoredLine
from mcp_console.backend.runtime import Runtime
from mcp_console.settings import Settings
from tests.cli.commands import Cli
from tests.monitor.log_helpers import seed_logs


async def _seed(data_dir: Path) -> None:
    async with Runtime(Settings(data_dir=data_dir)) as runtime:
        await seed_logs(runtime)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The CLI on a data dir whose store holds alice's lines (no daemon: it reads the file)."""
    asyncio.run(_seed(tmp_path / "data"))
    return Cli(tmp_path / "data", "logs-cli")


def test_search_prints_the_matching_lines_oldest_first(cli: Cli) -> None:
    found = cli("logs", "search", "/reset|full/").stdout.splitlines()
    severe = cli.json("logs", "search", "--deployment", "alice/web", "--level", "warn")
    inverse = cli.json("logs", "search", "-d", "alice/web", "!/^(INFO|tools)/", "--since", "2h")
    tail = cli("deploy", "logs", "alice/web", "--tail", "2").stdout.splitlines()

    assert [line.split(" ", 2)[2] for line in found] == [
        "alice/web web-1 ERROR ERROR connection reset by peer",
        "alice/db db-1 ERROR ERROR disk full",
    ]
    assert [line["text"] for line in severe] == [
        "ERROR connection reset by peer",
        "WARN retry 3 of 5",
    ]
    assert [line["text"] for line in inverse] == ["WARN retry 3 of 5"]
    assert [line.split(" ", 2)[2] for line in tail] == [
        "web-1 INFO  tools/call tool=echo status=200",
        "web-1 INFO  INFO request took 120ms",
    ]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["--level", "loud"],
            "error: unknown log level 'loud'; use one of debug, info, warn, error (level)",
        ),
        (
            ["/(unclosed/"],
            "error: invalid regex /(unclosed/: missing ), unterminated subpattern at position 0"
            " (text)",
        ),
        (
            ["--since", "soon"],
            "error: since 'soon' is neither a duration (30d, 12h, 90m or 2w) nor an ISO 8601"
            " time (since)",
        ),
        (["-d", "nobody/nothing"], "error: no deployment named 'nobody/nothing' (name)"),
    ],
)
def test_a_bad_query_is_refused_naming_what_is_wrong(cli: Cli, args: list[str], said: str) -> None:
    refused = cli("logs", "search", *args, ok=False)
    assert refused.stderr == said + "\n"
    assert refused.stdout == ""


def test_deploy_logs_follow_prints_new_lines_as_they_are_kept(cli: Cli, tmp_path: Path) -> None:
    follower = subprocess.Popen(
        [sys.executable, "-m", "mcp_console", "deploy", "logs", "alice/web", "-f", "--tail", "1"],
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert follower.stdout is not None
        first = follower.stdout.readline()
        store = LogStore(tmp_path / "data" / FILE_NAME)
        store.open()
        [web] = {line[1] for line in _rows(store) if line[3] == "web-2"}
        store.append([StoredLine(time.time(), web, "web-9", "stderr", 3, "ERROR fresh failure")])
        store.close()
        second = follower.stdout.readline()
    finally:
        follower.send_signal(signal.SIGINT)
        _, errors = follower.communicate(timeout=60)

    assert first.rstrip("\n").split(" ", 2)[2] == "web-1 INFO  INFO request took 120ms"
    assert second.rstrip("\n").split(" ", 2)[2] == "web-9 ERROR ERROR fresh failure"
    assert follower.returncode == 0, errors
    assert "Traceback" not in errors


def _rows(store: LogStore) -> list[tuple[int, int, str, str]]:
    conn = store.reader()
    try:
        return list(conn.execute("SELECT id, deployment_id, text, instance FROM lines"))
    finally:
        conn.close()
