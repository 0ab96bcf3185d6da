"""Handshake-era sessions: pinned to their instance, listed, drained, killed, one per instance."""

from __future__ import annotations

import asyncio

import anyio
import httpx
import pytest
from mcp import MCPError

from mcp_console.backend.deploy.drivers.process import ProcessManager
from mcp_console.backend.gateway.core import GatewayConfig

from .helpers import (
    STREAM_COMMAND,
    GatewayEnv,
    connect,
    http_process,
    result_of,
    start_http,
)

SESSION_GONE = "Session not found"


async def test_sessions_are_listed_and_a_killed_one_must_initialize_again(
    env: GatewayEnv, process_manager: ProcessManager
) -> None:
    route = env.deploy(await http_process(process_manager, "one"))
    url = env.endpoint(route)
    async with connect(url, env.owner, "legacy") as client:
        assert await result_of(client, "counter") == 1
        (listed,) = env.gateway.list_sessions(route.deployment_id)
        assert (listed.instance_id, listed.user_id, listed.state) == (
            "one",
            env.owner.principal.user_id,
            "active",
        )
        assert listed.request_count >= 2  # initialize, initialized, the call...

        assert await env.gateway.kill_session(listed.id)
        assert env.gateway.list_sessions() == []
        with pytest.raises(MCPError, match=SESSION_GONE):
            await client.call_tool("counter", {})
    assert not await env.gateway.kill_session(listed.id)

    # A new session starts afresh (the instance forgot the old one too: DELETE was sent).
    async with connect(url, env.owner, "legacy") as client:
        assert await result_of(client, "counter") == 1


class TestDrain:
    @pytest.fixture
    def gateway_config(self) -> GatewayConfig:
        return GatewayConfig(drain_grace=0.2)

    async def test_a_drained_session_finishes_its_calls_then_ends(
        self, env: GatewayEnv, process_manager: ProcessManager
    ) -> None:
        url = env.endpoint(env.deploy(await http_process(process_manager, "s", STREAM_COMMAND)))
        with anyio.fail_after(30):
            async with (
                connect(url, env.owner, "legacy") as client,
                connect(url, env.owner) as other,
            ):
                started = asyncio.Event()

                async def on_progress(
                    progress: float, total: float | None, message: str | None
                ) -> None:
                    started.set()

                call = asyncio.ensure_future(
                    client.call_tool("gated", {"key": "d"}, progress_callback=on_progress)
                )
                await started.wait()
                (session,) = env.gateway.list_sessions()
                assert await env.gateway.drain_session(session.id)
                assert env.gateway.list_sessions()[0].state == "draining"
                await result_of(other, "open_gate", {"key": "d"})
                finished = await call
                assert finished.structured_content == {"result": "d: done"}
                while env.gateway.list_sessions():
                    await asyncio.sleep(0.05)
                with pytest.raises(MCPError, match=SESSION_GONE):
                    await client.call_tool("whoami", {})


async def test_sessions_on_a_lost_instance_get_404_and_new_ones_go_elsewhere(
    env: GatewayEnv, process_manager: ProcessManager
) -> None:
    first, first_ref = await start_http(process_manager, "first")
    second, _ = await start_http(process_manager, "second")
    route = env.deploy(first, second)
    url = env.endpoint(route)
    async with connect(url, env.owner, "legacy") as a, connect(url, env.owner, "legacy") as b:
        pinned = {await result_of(a, "whoami"), await result_of(b, "whoami")}
        assert pinned == {"first", "second"}
        on_first = a if await result_of(a, "whoami") == "first" else b
        on_second = b if on_first is a else a

        # The instance dies without the controller knowing yet: its refusal is enough.
        await process_manager.stop(first_ref, timeout=5)
        with pytest.raises(MCPError, match=SESSION_GONE):
            await on_first.call_tool("whoami", {})
        assert await result_of(on_second, "whoami") == "second"
        async with connect(url, env.owner, "legacy") as fresh:
            assert await result_of(fresh, "whoami") == "second"

        # The controller removes an instance: its sessions end at once.
        env.gateway.routes.remove_instance(route.deployment_id, "second")
        with pytest.raises(MCPError, match=SESSION_GONE):
            await on_second.call_tool("whoami", {})


async def test_draining_instances_keep_their_sessions_but_get_no_new_ones(
    env: GatewayEnv, process_manager: ProcessManager
) -> None:
    first = await http_process(process_manager, "first")
    route = env.deploy(first)
    url = env.endpoint(route)
    async with connect(url, env.owner, "legacy") as old:
        assert await result_of(old, "counter") == 1
        env.gateway.routes.set_instance(
            route.deployment_id, await http_process(process_manager, "second")
        )
        env.gateway.routes.mark_draining(route.deployment_id, "first")
        for mode in ("legacy", "auto", "legacy"):
            async with connect(url, env.owner, mode) as new:
                assert await result_of(new, "whoami") == "second"
        assert await result_of(old, "counter") == 2
        assert await result_of(old, "whoami") == "first"


class TestIdle:
    @pytest.fixture
    def gateway_config(self) -> GatewayConfig:
        return GatewayConfig(session_idle_timeout=0.0)

    async def test_idle_sessions_are_ended_by_the_sweep_but_streaming_ones_stay(
        self, env: GatewayEnv, process_manager: ProcessManager
    ) -> None:
        url = env.endpoint(env.deploy(await http_process(process_manager, "one")))
        headers = {**env.owner.headers, "accept": "application/json, text/event-stream"}
        initialize = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "0"},
            },
        }
        async with connect(url, env.owner, "legacy") as streaming:
            with anyio.fail_after(30):  # the SDK client opens its GET stream in the background
                while not any(s.inflight for s in env.gateway.list_sessions()):
                    await asyncio.sleep(0.01)
            async with httpx.AsyncClient(timeout=30) as http:
                opened = await http.post(url, json=initialize, headers=headers)
                assert opened.status_code == 200
                session_id = opened.headers["mcp-session-id"]
                assert len(env.gateway.list_sessions()) == 2

                # The SDK client holds its GET stream open, so only the raw session is idle.
                assert env.gateway.reap_idle() == 1
                ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
                gone = await http.post(
                    url, json=ping, headers={**headers, "mcp-session-id": session_id}
                )
            assert gone.status_code == 404
            assert gone.json()["error"]["message"] == SESSION_GONE
            assert await result_of(streaming, "counter") == 1
