"""Driving ``mcp-console`` in a real terminal (tmux) the way a person would."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest


class Terminal:
    """One tmux session running ``python -m mcp_console ARGS`` with its own environment.

    Args:
        env: the variables the console runs with (on top of PATH and TERM).
        status_file: where the console's exit status is written when it ends.
    """

    def __init__(
        self,
        args: list[str],
        env: dict[str, str],
        status_file: Path,
        *,
        size: tuple[int, int] = (100, 30),
    ) -> None:
        if shutil.which("tmux") is None:
            pytest.fail("tmux is needed to drive the console like a terminal user")
        self.session = f"mcpc-{uuid.uuid4().hex[:8]}"
        self.status_file = status_file
        self.size = size
        assigned = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        command = " ".join(shlex.quote(a) for a in (sys.executable, "-m", "mcp_console", *args))
        # A clean environment: nothing of the test run's MCP_CONSOLE_* settings leaks in.
        home, path = str(Path.home()), os.environ.get("PATH", "")
        base = f"PATH={shlex.quote(path)} HOME={shlex.quote(home)}"
        self.command = (
            f"env -i {base} TERM=xterm {assigned} {command}; "
            f"echo $? > {shlex.quote(str(status_file))}"
        )

    def _tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", *args], capture_output=True, text=True, check=True, timeout=10
        ).stdout

    def __enter__(self) -> Terminal:
        width, height = (str(n) for n in self.size)
        start = ["new-session", "-d", "-s", self.session, "-x", width, "-y", height, self.command]
        # The pane stays once the console has ended: what it printed on the way out shows.
        keep = ["set-option", "-t", self.session, "remain-on-exit", "on"]
        self._tmux(*start, ";", *keep)
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run(
            ["tmux", "kill-session", "-t", self.session], capture_output=True, check=False
        )

    def screen(self) -> str:
        """What the terminal shows now."""
        return self._tmux("capture-pane", "-p", "-t", self.session)

    def transcript(self) -> str:
        """Everything the terminal has shown outside the console's own screen (what was
        printed once it ended, say), with wrapped lines joined."""
        return self._tmux("capture-pane", "-p", "-J", "-S", "-", "-t", self.session)

    def wait_for(self, text: str, seconds: float = 60) -> str:
        """The screen, once ``text`` is on it."""
        return self.wait_until(lambda shown: text in shown, repr(text), seconds)

    def wait_until(self, shows: Callable[[str], bool], what: str, seconds: float = 60) -> str:
        """The screen, once ``shows(screen)`` holds."""
        deadline = time.monotonic() + seconds
        shown = ""
        while time.monotonic() < deadline:
            shown = self.screen()
            if shows(shown):
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{what} never appeared; the screen was:\n{shown}")

    def keys(self, *keys: str) -> None:
        """Type ``keys`` (tmux key names)."""
        self._tmux("send-keys", "-t", self.session, *keys)

    def pause(self, seconds: float = 0.5) -> None:
        """Wait as a person would between keys (a screen's focus moves on its next frame)."""
        time.sleep(seconds)

    def exit_status(self, seconds: float = 30) -> int:
        """The console's exit status, once it has ended."""
        deadline = time.monotonic() + seconds
        while not self.status_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        return int(self.status_file.read_text().strip())
