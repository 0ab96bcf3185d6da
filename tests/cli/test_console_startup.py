"""The console draws before its backend loads; a backend that cannot start ends it, saying why."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from tests.cli.terminal import Terminal

ROOT = Path(__file__).resolve().parents[2]
# What the first frame must not wait for: the backend, its database drivers and migrations,
# the container engine's client, the web stack and the MCP SDK.
HEAVY = (
    "mcp_console.backend",
    "mcp_console.client.local",
    "mcp_console.client.remote",
    "sqlalchemy",
    "alembic",
    "aiosqlite",
    "asyncpg",
    "docker",
    "fastapi",
    "uvicorn",
    "httpx",
    "mcp",
    "mcp_types",
    # The other sections' screens, with their charts and markdown: the first frame is the
    # market's.
    "mcp_console.screens.deploy",
    "mcp_console.screens.deployments",
    "mcp_console.screens.developer",
    "mcp_console.screens.monitor",
    "mcp_console.screens.service_detail",
    "markdown_it",
    "textual_plotext",
)
# Everything ``mcp-console`` imports on its way to the first frame of the console.
PROBE = """
import json, sys
import mcp_console.cli
import mcp_console.cli.tui
print(json.dumps(sorted(sys.modules)))
"""


def test_the_console_loads_no_backend_before_its_first_frame() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert "textual" in loaded
    assert "mcp_console.app" in loaded
    heavy = [m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert heavy == [], f"loaded before the first frame: {', '.join(heavy[:10])}"


def test_a_backend_that_cannot_start_ends_the_console_with_the_reason(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port no database listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        "MCP_CONSOLE_DATA_DIR": str(tmp_path / "data"),
        "MCP_CONSOLE_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:{port}/none",
        "MCP_CONSOLE_GATEWAY_PORT": "0",
    }
    with Terminal([], env, tmp_path / "status") as terminal:
        screen = terminal.wait_for("error: the backend did not start")
        assert f"127.0.0.1', {port}" in screen  # where it tried to reach the database
        assert terminal.exit_status() == 1
