"""Shared constants and waits for the deploy tests."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import anyio
from mcp import Client

from mcp_console.backend.deploy.drivers.base import PackageSource, RuntimeEvent

TEST_LABEL = "io.mcp-console.test"
RUN_ID = uuid.uuid4().hex[:12]
TIME_SERVER = PackageSource("mcp-server-time", "2026.10.19")
# Needs Debian's git beside its wheels (GitPython runs the git program).
GIT_SERVER = PackageSource("mcp-server-git", "2026.10.19")
EXAMPLE_MODULE = ("-m", "mcp_console.devtools.example_server")
EXAMPLE_COMMAND = (sys.executable, *EXAMPLE_MODULE)
# Bounds on waiting for real servers; generous for a loaded 2-core machine.
READY_TIMEOUT = 30.0
EVENT_TIMEOUT = 30.0

T = TypeVar("T")


def run_in_private_loop(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine on its own loop in a worker thread (for session fixtures)."""

    async def main() -> T:
        return await make()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def new_id() -> str:
    """A fresh id, so tests never collide on container or process names."""
    return uuid.uuid4().hex[:10]


async def wait_until_ready(url: str) -> None:
    """Wait until an MCP server answers tools/list at ``url`` (a TCP accept is not readiness)."""
    with anyio.fail_after(READY_TIMEOUT):
        while True:
            try:
                async with Client(url) as client:
                    await client.list_tools()
                    return
            except Exception:
                await anyio.sleep(0.1)


async def next_event(
    events: AsyncIterator[RuntimeEvent], match: Callable[[RuntimeEvent], bool]
) -> RuntimeEvent:
    """The first event satisfying ``match``."""
    with anyio.fail_after(EVENT_TIMEOUT):
        async for event in events:
            if match(event):
                return event
    raise AssertionError("the event stream ended before the expected event")
