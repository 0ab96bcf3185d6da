"""Per-session deployments: every client session gets, and then gives back, its own instance."""

from __future__ import annotations

import asyncio

import anyio
import httpx
import pytest
from mcp import MCPError

from mcp_console.backend.deploy.drivers.process import ProcessManager

from .helpers import GatewayEnv, ProcessProvider, connect, innermost, result_of

SESSIONS = 3
CALLS = 20


@pytest.mark.parametrize("transport", ["http", "stdio"])
async def test_each_session_counts_on_its_own_instance(
    env: GatewayEnv, process_manager: ProcessManager, transport: str
) -> None:
    provider = ProcessProvider(process_manager, transport)
    env.gateway.instance_provider = provider
    route = env.deploy(mode="per-session")
    url = env.endpoint(route)

    async def session(mode: str) -> tuple[str, list[int], str]:
        async with connect(url, env.owner, mode) as client:
            # Dual-era clients are told to use the handshake here, and fall back to it.
            assert client.protocol_version == "2025-11-25"
            counts = [await result_of(client, "counter") for _ in range(CALLS)]
            return await result_of(client, "whoami"), counts, client.protocol_version

    with anyio.fail_after(120):
        results = await asyncio.gather(
            *(session(("legacy", "auto")[i % 2]) for i in range(SESSIONS))
        )
    # The example server's counter is shared by everything one process serves: only
    # an instance per session gives each its own 1..20.
    assert all(counts == list(range(1, CALLS + 1)) for _, counts, _ in results)
    assert len({who for who, _, _ in results}) == SESSIONS
    # Every session ended with its client, and gave its instance back (in the background).
    with anyio.fail_after(30):
        while len(provider.released) < SESSIONS:
            await asyncio.sleep(0.05)
    assert sorted(provider.released) == sorted(provider.refs)
    assert len(provider.refs) == SESSIONS
    assert await process_manager.list_managed() == []
    assert route.instances == {}


async def test_modern_requests_and_sessionless_calls_are_told_what_to_do(
    env: GatewayEnv, process_manager: ProcessManager
) -> None:
    env.gateway.instance_provider = ProcessProvider(process_manager, "http")
    url = env.endpoint(env.deploy(mode="per-session"))
    headers = {**env.owner.headers, "accept": "application/json, text/event-stream"}
    discover = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "server/discover",
        "params": {
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
            }
        },
    }
    async with httpx.AsyncClient(timeout=30) as http:
        modern = await http.post(
            url,
            json=discover,
            headers={
                **headers,
                "mcp-protocol-version": "2026-07-28",
                "mcp-method": "server/discover",
            },
        )
        legacy = await http.post(
            url, json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, headers=headers
        )
    assert modern.status_code == 400
    assert modern.json()["error"]["code"] == -32022
    assert "2025-11-25" in modern.json()["error"]["data"]["supported"]
    assert legacy.status_code == 400
    assert legacy.json()["error"]["message"] == "Bad Request: Missing session ID"
    # Nothing was started for requests that open no session.
    assert await process_manager.list_managed() == []


async def test_without_a_provider_per_session_deployments_are_unavailable(
    env: GatewayEnv,
) -> None:
    url = env.endpoint(env.deploy(mode="per-session"))
    with pytest.raises(BaseException) as refused:  # noqa: PT011 (an exception group)
        async with connect(url, env.owner, "legacy"):
            pass
    error = innermost(refused.value)
    assert isinstance(error, MCPError)
    assert "runs an instance per session, but none can start" in error.error.message
