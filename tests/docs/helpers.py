"""Servers to generate docs from (the example server and mcp-server-time) and golden files."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.deploy.helpers import EXAMPLE_COMMAND, wait_until_ready

GOLDEN = Path(__file__).parent / "golden"
# The time server names the local zone in its tools' descriptions: fixed, so docs are too.
TIME_COMMAND = (str(Path(sys.executable).with_name("mcp-server-time")), "--local-timezone", "UTC")
# Seconds any one answer may take on a loaded machine.
TIMEOUT = 30.0


def golden(name: str) -> str:
    """A golden file's text."""
    return (GOLDEN / name).read_text(encoding="utf-8")


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def example_over_http(*extra: str) -> AsyncIterator[str]:
    """The example server on a loopback port, ready for MCP: its endpoint URL."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        *EXAMPLE_COMMAND,
        "--transport",
        "http",
        "--port",
        str(port),
        *extra,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/mcp"
        await wait_until_ready(url)
        yield url
    finally:
        process.terminate()
        await process.wait()
