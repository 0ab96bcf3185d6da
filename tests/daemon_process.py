"""``mcp-console daemon`` as a real process on one data dir, for tests that kill and restart it."""

from __future__ import annotations

import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import anyio

from mcp_console.backend.daemon import DaemonFiles, read_info, read_token
from mcp_console.client.remote import RemoteClient
from mcp_console.schemas.errors import Unavailable

START_TIMEOUT = 60.0
# The system calls an event loop waits for I/O in: epoll_wait, epoll_pwait, epoll_pwait2.
EPOLL_WAITS = {"x86_64": {"232", "281", "441"}, "aarch64": {"22", "441"}}
STOP_ATTEMPTS = 20_000


class DaemonProcess:
    """The daemon on ``data_dir`` with free ports and the given settings (``env``), its
    output in ``daemon-test.log`` there; ``kill()`` is a SIGKILL, no clean-up of any kind."""

    def __init__(self, data_dir: Path, env: Mapping[str, str]) -> None:
        self.files = DaemonFiles(data_dir)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("MCP_CONSOLE_")},
            "MCP_CONSOLE_DATA_DIR": str(data_dir),
            "MCP_CONSOLE_API_PORT": "0",
            "MCP_CONSOLE_GATEWAY_PORT": "0",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> RemoteClient:
        """Start it and wait until its API answers: a client of it (close it after)."""
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

    def log_tail(self, lines: int = 80) -> str:
        """The end of the daemon's output, for failure messages."""
        log = self.files.data_dir / "daemon-test.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL, and wait until it is gone."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def kill_between_steps(self) -> None:
        """SIGKILL while the daemon's event loop waits for I/O: between two steps of its
        tasks, never inside one (a reply written and the record of it are one step).

        The daemon is stopped (SIGSTOP) until its main thread is found in the loop's wait,
        continued and tried again otherwise, then killed where it stands.
        """
        assert self.process is not None
        pid = self.process.pid
        waits = EPOLL_WAITS[platform.machine()]
        for _ in range(STOP_ATTEMPTS):
            os.kill(pid, signal.SIGSTOP)
            while _state(pid) not in ("T", "t"):
                time.sleep(0.0001)
            call = Path(f"/proc/{pid}/task/{pid}/syscall").read_text().split()[0]
            if call in waits:
                self.kill()
                return
            os.kill(pid, signal.SIGCONT)
            time.sleep(0.0002)
        raise AssertionError("the daemon's event loop was never found waiting for I/O")

    def stop(self) -> None:
        """SIGTERM (a SIGKILL if it does not end within 30 s)."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)  # in case it was left stopped
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _state(pid: int) -> str:
    """The state letter of ``pid``'s main thread (``T``: stopped)."""
    stat = Path(f"/proc/{pid}/task/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2]
