"""A real Alertmanager on a loopback port for a test (Debian's prometheus-alertmanager)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.conftest import _unavailable
from tests.monitor.receiver import free_port

REQUIRE_VAR = "MCP_CONSOLE_REQUIRE_PROMETHEUS"
BINARY = "prometheus-alertmanager"
CONFIG = """\
route:
  receiver: nobody
  group_wait: 1s
receivers:
  - name: nobody
"""


@contextlib.contextmanager
def alertmanager(work: Path) -> Iterator[str]:
    """Start Alertmanager (no gossip, its own data dir); yields its base URL."""
    binary = shutil.which(BINARY)
    if binary is None:
        _unavailable(
            "Alertmanager", REQUIRE_VAR, f"{BINARY} is not on PATH", "scripts/test installs it"
        )
    port = free_port()
    (work / "am.yml").write_text(CONFIG)
    log = (work / "am.log").open("wb")
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={work / 'am.yml'}",
            f"--storage.path={work / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Alertmanager did not start: {(work / 'am.log').read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
