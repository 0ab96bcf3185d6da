"""Streaming through the gateway: progress arrives before the result, and leaving cancels."""

from __future__ import annotations

import asyncio
import contextlib

import anyio
import pytest

from mcp_console.backend.deploy.drivers.process import ProcessManager
from mcp_console.backend.gateway.routing import UpstreamInstance

from .helpers import STREAM_COMMAND, GatewayEnv, connect, http_process, result_of, stdio_process

MODES = ["auto", "legacy"]
TRANSPORTS = ["http", "stdio"]
# Bounds a hang: if the gateway held progress back until the end, the tool would wait forever.
DEADLOCK_TIMEOUT = 30


async def stream_instance(pm: ProcessManager, transport: str) -> UpstreamInstance:
    if transport == "http":
        return await http_process(pm, "stream", STREAM_COMMAND)
    return await stdio_process(pm, "stream", STREAM_COMMAND)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_progress_reaches_the_client_before_the_result(
    env: GatewayEnv, process_manager: ProcessManager, transport: str, mode: str
) -> None:
    url = env.endpoint(env.deploy(await stream_instance(process_manager, transport)))

    async def gated_call(key: str) -> list[str | None]:
        """Call ``gated``; the gate opens only once its first progress has been received."""
        seen: list[str | None] = []
        first = asyncio.Event()

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            seen.append(message)
            first.set()

        async with connect(url, env.owner, mode) as client, connect(url, env.owner) as opener:

            async def open_when_seen() -> None:
                await first.wait()
                assert await result_of(opener, "open_gate", {"key": key})

            opening = asyncio.ensure_future(open_when_seen())
            result = await client.call_tool("gated", {"key": key}, progress_callback=on_progress)
            await opening
        assert result.structured_content == {"result": f"{key}: done"}
        return seen

    with anyio.fail_after(DEADLOCK_TIMEOUT):
        progress = await asyncio.gather(*(gated_call(f"{transport}-{mode}-{n}") for n in range(3)))
    # Each caller saw its own progress only, in order, although the tokens were alike.
    for n, messages in enumerate(progress):
        key = f"{transport}-{mode}-{n}"
        assert messages == [f"{key}: waiting", f"{key}: opened"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_client_giving_up_cancels_the_call_upstream(
    env: GatewayEnv, process_manager: ProcessManager, transport: str, mode: str
) -> None:
    url = env.endpoint(env.deploy(await stream_instance(process_manager, transport)))
    key = f"hang-{transport}-{mode}"
    started = asyncio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        started.set()

    with anyio.fail_after(DEADLOCK_TIMEOUT):
        async with connect(url, env.owner, mode) as client:
            call = asyncio.ensure_future(
                client.call_tool("hang", {"key": key}, progress_callback=on_progress)
            )
            await started.wait()
            call.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await call
            async with connect(url, env.owner) as observer:
                while not await result_of(observer, "was_cancelled", {"key": key}):
                    await asyncio.sleep(0.05)
