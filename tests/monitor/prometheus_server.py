"""A real Prometheus for tests: scrapes one target every second, queried over its HTTP API."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

JOB = "mcp-console"
# How long Prometheus may take to come up, and a query to reach the value a test waits for.
READY_TIMEOUT = 30.0
SETTLE_TIMEOUT = 30.0

CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: {job}
    metrics_path: /metrics
    {auth}
    static_configs:
      - targets: ["{target}"]
"""


def free_port() -> int:
    """A loopback TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Prometheus:
    """A running Prometheus and a client for its HTTP API."""

    url: str
    http: httpx.AsyncClient
    log: Path

    async def query(self, promql: str) -> list[tuple[dict[str, str], float]]:
        """An instant query's samples: each series' labels and value."""
        response = await self.http.get("/api/v1/query", params={"query": promql})
        body = response.json()
        assert body["status"] == "success", body
        return [(item["metric"], float(item["value"][1])) for item in body["data"]["result"]]

    async def value(self, promql: str) -> float | None:
        """The value of a query that yields one sample (``None`` while it yields none)."""
        samples = await self.query(promql)
        assert len(samples) <= 1, samples
        return samples[0][1] if samples else None

    async def settled(self, promql: str, done: Callable[[float | None], bool]) -> float | None:
        """The query's value once ``done`` holds for it (its last value after a while)."""
        value = await self.value(promql)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SETTLE_TIMEOUT):
                while not done(value):
                    await asyncio.sleep(0.25)
                    value = await self.value(promql)
        return value

    async def target_health(self) -> list[str]:
        """The health of each scraped target (``up``, ``down``, ``unknown``), with its error."""
        body = (await self.http.get("/api/v1/targets")).json()
        return [
            f"{target['health']} {target.get('lastError', '')}".strip()
            for target in body["data"]["activeTargets"]
        ]


@asynccontextmanager
async def running_prometheus(
    binary: Path, workdir: Path, target: str, token: str | None
) -> AsyncIterator[Prometheus]:
    """Prometheus on a loopback port scraping ``target``'s /metrics every second.

    Args:
        binary: The ``prometheus`` executable.
        workdir: Where its configuration, data and log go.
        target: The base URL of the API serving /metrics.
        token: The bearer token to scrape with (``None``: none sent).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    auth = ""
    if token is not None:
        secret = workdir / "token"
        secret.write_text(token)
        secret.chmod(0o600)
        auth = f"authorization:\n      credentials_file: {secret}"
    config = workdir / "prometheus.yml"
    config.write_text(CONFIG.format(job=JOB, auth=auth, target=urlsplit(target).netloc))
    port = free_port()
    log = workdir / "prometheus.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            str(binary),
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            stdout=out,
            stderr=out,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            await _ready(http, process, log)
            yield Prometheus(url, http, log)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(10):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()


async def _ready(http: httpx.AsyncClient, process: asyncio.subprocess.Process, log: Path) -> None:
    """Wait until Prometheus answers /-/ready (fail with its log if it exits or never does)."""
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            while True:
                if process.returncode is not None:
                    break
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/-/ready")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
    except TimeoutError:
        pass
    raise AssertionError(f"Prometheus did not become ready:\n{log.read_text()[-2000:]}")
