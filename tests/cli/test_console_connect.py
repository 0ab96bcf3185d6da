"""``mcp-console --connect URL``: the console on a daemon elsewhere, or a clear error why not."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mcp_console.backend.daemon import DaemonFiles, running_pid
from tests.cli.terminal import Terminal
from tests.contract.documents import server_json

SERVICE = "io.github.acme/tides"


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_console", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MCP_CONSOLE_")}
    return {**clean, "MCP_CONSOLE_DATA_DIR": str(data_dir), **extra}


@dataclass(frozen=True)
class Daemon:
    """A running daemon: where it answers and its local admin's key."""

    url: str
    token: str
    data_dir: Path


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """A detached daemon with one published service, on free ports."""
    data_dir = tmp_path_factory.mktemp("daemon")
    env = _env(data_dir, MCP_CONSOLE_API_PORT="0", MCP_CONSOLE_GATEWAY_PORT="0")
    started = _run("daemon", "--detach", env=env)
    assert started.returncode == 0, started.stderr
    try:
        status = json.loads(_run("daemon", "status", "--json", env=env).stdout)
        document = data_dir / "tides.server.json"
        document.write_text(server_json(SERVICE, description="Tide tables for any harbour"))
        published = _run("catalog", "publish", str(document), env=env)
        assert published.returncode == 0, published.stderr
        token = (data_dir / "admin.token").read_text().strip()
        yield Daemon(status["url"], token, data_dir)
    finally:
        _run("daemon", "stop", env=env)
        pid = running_pid(DaemonFiles(data_dir))
        if pid is not None and pid > 0:  # the stop failed: leave no process behind
            os.kill(pid, signal.SIGKILL)


def test_the_console_runs_on_the_daemon_at_the_url(daemon: Daemon, tmp_path: Path) -> None:
    # Another data dir, as on a laptop whose tunnel reaches the server: no local daemon, no
    # local database; the key comes from the environment, so it is not in the process list.
    here = tmp_path / "laptop"
    env = {"MCP_CONSOLE_DATA_DIR": str(here), "MCP_CONSOLE_API_KEY": daemon.token}
    with Terminal(["--connect", daemon.url], env, tmp_path / "status") as terminal:
        terminal.wait_for("Signed in as admin")
        screen = terminal.wait_for("1 published service(s)")
        # The daemon's service, by its display name, in the market's table.
        assert any("tides" in line and "published" in line for line in screen.splitlines())
        terminal.keys("q")
        assert terminal.exit_status() == 0
    assert not (here / "mcp-console.db").exists()


def test_a_refused_key_is_an_error_on_stderr(daemon: Daemon, tmp_path: Path) -> None:
    env = _env(tmp_path)
    refused = _run("--connect", daemon.url, "--token", "mcpc_not-a-key", env=env)
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"error: the daemon at {daemon.url} refused the API key")
    assert "not valid" in refused.stderr

    missing = _run("--connect", daemon.url, env=env)
    assert missing.returncode == 1
    assert missing.stderr.startswith(f"error: the daemon at {daemon.url} wants an API key")
    assert "MCP_CONSOLE_API_KEY" in missing.stderr


def test_a_url_where_nothing_answers_is_an_error_on_stderr(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    env = _env(tmp_path, MCP_CONSOLE_API_KEY="mcpc_whatever")
    result = _run("--connect", url, env=env)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot reach the daemon at {url}")

    wrong = _run("--connect", "localhost:8765", env=env)
    assert wrong.returncode == 1
    assert wrong.stderr.startswith("error: give the daemon's http:// or https:// URL")

    with_command = _run("--connect", url, "catalog", "search", env=env)
    assert with_command.returncode == 1
    assert "give them without a command" in with_command.stderr
