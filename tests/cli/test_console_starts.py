"""The bare ``mcp-console`` command starts the terminal console and quits cleanly."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest


def _tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", *args], capture_output=True, text=True, check=True, timeout=10
    ).stdout


def _wait_for(predicate_text: str, session: str, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    screen = ""
    while time.monotonic() < deadline:
        screen = _tmux("capture-pane", "-p", "-t", session)
        if predicate_text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{predicate_text!r} never appeared; the screen was:\n{screen}")


def test_console_starts_shows_the_local_admin_and_quits_with_q(tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is needed to drive the console like a terminal user")
    session = f"mcpc-{uuid.uuid4().hex[:8]}"
    done = tmp_path / "exit-status"
    command = (
        f"MCP_CONSOLE_DATA_DIR={shlex.quote(str(tmp_path / 'data'))} TERM=xterm "
        f"{shlex.quote(sys.executable)} -m mcp_console; echo $? > {shlex.quote(str(done))}"
    )
    _tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", command)
    try:
        _wait_for("Signed in as admin", session)
        # The market's first page arrives on its own worker, after the header.
        screen = _wait_for("0 published service(s)", session)
        assert "The catalog is empty" in screen
        _tmux("send-keys", "-t", session, "q")
        deadline = time.monotonic() + 20
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert done.read_text().strip() == "0"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, check=False)
    assert (tmp_path / "data" / "mcp-console.db").exists()
