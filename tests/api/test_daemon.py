"""``mcp-console daemon``: a real background process that the CLI finds and talks to."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mcp_console.backend.daemon import DaemonFiles, running_pid
from tests.contract.documents import server_json

NAME = "io.github.acme/weather"


class Console:
    """Runs ``mcp-console`` as a user would, against one data dir."""

    def __init__(self, data_dir: Path, daemon_database: Path) -> None:
        self.data_dir = data_dir
        self.daemon_database = daemon_database

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MCP_CONSOLE_")}
        base = {"MCP_CONSOLE_DATA_DIR": str(self.data_dir), "MCP_CONSOLE_GATEWAY_PORT": "0"}
        return {**env, **base, **extra}

    def run(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mcp_console", *args],
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def start(self) -> subprocess.CompletedProcess[str]:
        """``daemon --detach`` on a free port, with a database the plain CLI does not know."""
        return self.run(
            "daemon",
            "--detach",
            MCP_CONSOLE_API_PORT="0",
            MCP_CONSOLE_DATABASE_URL=f"sqlite+aiosqlite:///{self.daemon_database}",
        )

    def status(self) -> dict[str, Any]:
        result = self.run("daemon", "status", "--json")
        assert result.returncode == 0, result.stderr
        status: dict[str, Any] = json.loads(result.stdout)
        return status

    def token(self) -> str:
        return (self.data_dir / "admin.token").read_text().strip()


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    console = Console(tmp_path / "data", tmp_path / "daemon-only.db")
    try:
        yield console
    finally:
        console.run("daemon", "stop")
        pid = running_pid(DaemonFiles(console.data_dir))
        if pid is not None and pid > 0:  # the stop failed: do not leave a process behind
            os.kill(pid, signal.SIGKILL)


def test_daemon_serves_the_cli_and_stops(console: Console) -> None:
    started = console.start()
    assert started.returncode == 0, started.stderr
    status = console.status()
    assert status["running"] is True
    assert status["kind"] == "daemon"
    assert status["answering"] is True
    assert status["url"].startswith("http://127.0.0.1:")
    assert not status["url"].endswith(":0")
    assert status["url"] in started.stdout
    state = json.loads((console.data_dir / "daemon.json").read_text())
    assert (state["url"], state["pid"]) == (status["url"], status["pid"])
    assert stat.S_IMODE((console.data_dir / "admin.token").stat().st_mode) == 0o600

    # The CLI has no database URL: it can only see the daemon's database through the daemon.
    document = console.data_dir.parent / "weather.server.json"
    document.write_text(server_json(NAME, tags=("forecast",)))
    published = console.run("catalog", "publish", str(document))
    assert published.returncode == 0, published.stderr
    found = console.run("catalog", "search", "tag:forecast", "--json")
    assert found.returncode == 0, found.stderr
    assert [s["name"] for s in json.loads(found.stdout)["items"]] == [NAME]
    assert not (console.data_dir / "mcp-console.db").exists()
    seen = httpx.get(
        f"{status['url']}/api/v1/services/{NAME}",
        headers={"Authorization": f"Bearer {console.token()}"},
        timeout=10,
    )
    assert seen.status_code == 200
    assert seen.json()["status"] == "PUBLISHED"

    stopped = console.run("daemon", "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert f"stopped the daemon (pid {status['pid']})" in stopped.stdout
    assert console.status() == {
        "running": False,
        "kind": None,
        "pid": None,
        "url": None,
        "answering": False,
    }
    assert "stopped" in console.run("daemon", "status").stdout
    assert not (console.data_dir / "daemon.json").exists()
    assert not (console.data_dir / "daemon.pid").exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{status['url']}/api/v1/health", timeout=5)

    # With no daemon, the CLI falls back to its embedded backend (an empty database here).
    alone = console.run("catalog", "search", "tag:forecast", "--json")
    assert alone.returncode == 0, alone.stderr
    assert json.loads(alone.stdout)["total"] == 0
    assert (console.data_dir / "mcp-console.db").exists()


def test_a_second_daemon_is_refused_and_the_token_survives_a_restart(console: Console) -> None:
    assert console.start().returncode == 0
    first_pid = console.status()["pid"]
    token = console.token()

    again = console.start()
    assert again.returncode == 1
    assert again.stderr.startswith("error: a daemon is already running at http://127.0.0.1:")
    foreground = console.run("daemon", "--port", "0")
    assert foreground.returncode == 1
    assert "already running" in foreground.stderr
    assert console.status()["pid"] == first_pid

    assert console.run("daemon", "stop").returncode == 0
    assert console.start().returncode == 0
    assert console.status()["pid"] != first_pid
    assert console.token() == token

    # A key the daemon cannot verify any more is replaced on the next start.
    (console.data_dir / "admin.token").write_text("mcpc_revoked-or-lost\n")
    assert console.run("daemon", "stop").returncode == 0
    assert console.start().returncode == 0
    fresh = console.token()
    assert fresh not in (token, "mcpc_revoked-or-lost")
    me = console.run("user", "list", "--json")
    assert me.returncode == 0, me.stderr
    assert [u["name"] for u in json.loads(me.stdout)] == ["admin"]


def test_the_cli_uses_the_configured_key_with_the_daemon(console: Console) -> None:
    assert console.start().returncode == 0
    created = console.run("user", "create", "alice", "--role", "user", "--json")
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["api_key"]
    refused = console.run("user", "list", MCP_CONSOLE_API_KEY=key)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: only an admin may list users")
    wrong = console.run("catalog", "search", MCP_CONSOLE_API_KEY="mcpc_wrong")
    assert wrong.returncode == 1
    assert "not valid" in wrong.stderr


def test_stop_without_a_daemon_says_so(console: Console) -> None:
    result = console.run("daemon", "stop")
    assert result.returncode == 0
    assert "no daemon is running" in result.stdout
    assert console.status()["running"] is False


def test_sigterm_to_a_foreground_daemon_exits_cleanly(console: Console) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "mcp_console", "daemon", "--port", "0"],
        env=console.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("mcp-console daemon listening on http://127.0.0.1:"), (
            line,
            process.stderr.read() if process.poll() is not None and process.stderr else "",
        )
        assert console.status()["answering"] is True
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not (console.data_dir / "daemon.json").exists()
    assert not (console.data_dir / "daemon.pid").exists()
    assert console.status()["running"] is False
