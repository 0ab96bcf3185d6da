"""Running ``mcp-console`` commands in a subprocess, as a user at a shell would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from mcp_console.backend.daemon import DaemonFiles, running_pid

STOP_SECONDS = 30.0


class Cli:
    """Runs ``mcp-console`` against one data dir on local processes; keeps what it printed.

    Args:
        data_dir: the console's data dir.
        scope: separates this test's instances from others' on a shared engine.
        settings: further ``MCP_CONSOLE_*`` variables, overriding these defaults.
    """

    def __init__(self, data_dir: Path, scope: str, **settings: str) -> None:
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("MCP_CONSOLE_")},
            "MCP_CONSOLE_DATA_DIR": str(data_dir),
            "MCP_CONSOLE_API_PORT": "0",
            "MCP_CONSOLE_GATEWAY_PORT": "0",
            "MCP_CONSOLE_RUNTIME": "process",
            "MCP_CONSOLE_DEPLOY__SCOPE": scope,
            "MCP_CONSOLE_DEPLOY__HEALTH_INTERVAL": "1",
            **settings,
        }
        self.printed: list[str] = []

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        """Run one command; it must succeed (``ok``) or fail with exit status 1."""
        result = subprocess.run(
            [sys.executable, "-m", "mcp_console", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self.printed += [result.stdout, result.stderr]
        assert result.returncode == (0 if ok else 1), (result.stdout, result.stderr)
        return result

    @property
    def settings(self) -> dict[str, str]:
        """The ``MCP_CONSOLE_*`` variables the commands run with."""
        return {k: v for k, v in self.env.items() if k.startswith("MCP_CONSOLE_")}

    def json(self, *args: str) -> Any:
        """A command's ``--json`` answer."""
        return json.loads(self(*args, "--json").stdout)


def stop_daemon(data_dir: Path) -> None:
    """Stop whatever daemon the commands started on ``data_dir``, as 'daemon stop' does,
    whatever happened in the test, and wait until it has."""
    files = DaemonFiles(data_dir)
    pid = running_pid(files)
    if pid is None or pid < 0:
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    while running_pid(files) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
