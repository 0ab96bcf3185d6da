"""stdio instances behind the gateway: the reference time server, and a multiplexed example."""

from __future__ import annotations

import asyncio
import json

import anyio
import httpx
from mcp_types import TextContent

from mcp_console.backend.deploy.drivers.base import InstanceSpec, PackageSource
from mcp_console.backend.deploy.drivers.docker import DockerManager
from mcp_console.backend.deploy.drivers.process import ProcessManager
from mcp_console.backend.gateway.routing import UpstreamInstance
from tests.deploy.helpers import TIME_SERVER, new_id

from .helpers import GatewayEnv, connect, result_of, stdio_process

ZONE = "Europe/Warsaw"


async def check_time_server(env: GatewayEnv, instance: UpstreamInstance) -> None:
    """Both eras list and call the time server's tools through one endpoint."""
    url = env.endpoint(env.deploy(instance))
    for mode, version in (("auto", "2026-07-28"), ("legacy", "2025-11-25")):
        async with connect(url, env.owner, mode) as client:
            assert client.protocol_version == version
            assert client.server_info is not None
            assert client.server_info.name == "mcp-time"
            tools = {tool.name for tool in (await client.list_tools()).tools}
            assert tools == {"get_current_time", "convert_time"}
            now = await client.call_tool("get_current_time", {"timezone": ZONE})
            assert not now.is_error
            assert now.structured_content is not None
            assert now.structured_content["timezone"] == ZONE
            converted = await client.call_tool(
                "convert_time",
                {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"},
            )
            assert converted.structured_content is not None
            assert converted.structured_content["target"]["datetime"].endswith("21:00:00+09:00")
            bad = await client.call_tool("get_current_time", {"timezone": "Mars/Olympus"})
            assert bad.is_error


async def test_time_server_from_pypi_as_a_process(
    env: GatewayEnv, process_manager: ProcessManager
) -> None:
    handle = await process_manager.start(
        InstanceSpec(
            deployment_id=f"gw-{new_id()}",
            instance_id="time",
            version=TIME_SERVER.version,
            transport="stdio",
            package=TIME_SERVER,
        )
    )
    channel = await process_manager.open_stdio(handle.ref)
    await check_time_server(env, UpstreamInstance("time", "stdio", channel=channel))


async def test_time_server_in_docker_over_its_attached_stdio(
    env: GatewayEnv, docker_manager: DockerManager, time_server_image: str
) -> None:
    handle = await docker_manager.start(
        InstanceSpec(
            deployment_id=f"gw-{new_id()}",
            instance_id="time",
            version=TIME_SERVER.version,
            transport="stdio",
            image=time_server_image,
        )
    )
    channel = await docker_manager.open_stdio(handle.ref)
    await check_time_server(env, UpstreamInstance("time", "stdio", channel=channel))


async def test_many_sessions_share_one_stdio_process_without_cross_talk(
    env: GatewayEnv, process_manager: ProcessManager
) -> None:
    url = env.endpoint(env.deploy(await stdio_process(process_manager, "one")))

    async def session(index: int, mode: str) -> None:
        async with connect(url, env.owner, mode) as client:
            texts = [f"s{index}-{n}" for n in range(25)]
            echoed = await asyncio.gather(*(result_of(client, "echo", {"text": t}) for t in texts))
            assert echoed == texts
            unknown = await client.call_tool("no-such-tool", {})
            assert unknown.is_error
            assert isinstance(unknown.content[0], TextContent)

    with anyio.fail_after(60):
        await asyncio.gather(*(session(i, ("auto", "legacy")[i % 2]) for i in range(6)))
    # One process served them all: every call went to the same instance.
    assert {r.instance_id for r in env.meter.calls("echo")} == {"one"}
    assert len(env.meter.calls("echo")) == 6 * 25


async def test_a_server_older_than_2026_serves_both_kinds_of_client(
    env: GatewayEnv, process_manager: ProcessManager
) -> None:
    # This release of the time server still runs on mcp 1.x: handshake era only.
    old = PackageSource("mcp-server-time", "2026.10.10")
    handle = await process_manager.start(
        InstanceSpec(
            deployment_id=f"gw-{new_id()}",
            instance_id="old",
            version=old.version,
            transport="stdio",
            package=old,
        )
    )
    channel = await process_manager.open_stdio(handle.ref)
    url = env.endpoint(env.deploy(UpstreamInstance("old", "stdio", channel=channel)))
    for mode in ("legacy", "auto"):
        async with connect(url, env.owner, mode) as client:
            # A dual-era client is told this server has no 2026 era, and falls back.
            assert client.protocol_version == "2025-11-25"
            assert client.server_info is not None
            assert client.server_info.version == "2026.10.10"
            now = await client.call_tool("get_current_time", {"timezone": ZONE})
            assert not now.is_error
            assert isinstance(now.content[0], TextContent)
            assert json.loads(now.content[0].text)["timezone"] == ZONE


async def test_the_gateway_checks_what_a_stdio_server_cannot_see(
    env: GatewayEnv, process_manager: ProcessManager
) -> None:
    url = env.endpoint(env.deploy(await stdio_process(process_manager, "one")))
    meta = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    call = {
        "jsonrpc": "2.0",
        "id": "c-1",
        "method": "tools/call",
        "params": {"name": "add", "arguments": {"a": 1, "b": 2}, "_meta": meta},
    }
    headers = {
        **env.owner.headers,
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "tools/call",
    }
    async with httpx.AsyncClient(timeout=30) as http:
        good = await http.post(url, json=call, headers={**headers, "mcp-name": "add"})
        lying = await http.post(url, json=call, headers={**headers, "mcp-name": "echo"})
        garbled = await http.post(url, content=b"{not json", headers=headers)
        streamless = await http.get(url, headers=headers)
    assert good.status_code == 200
    assert good.json()["id"] == "c-1"  # the client's own id comes back
    assert good.json()["result"]["structuredContent"] == {"result": 3}
    assert lying.status_code == 400
    assert lying.json()["error"]["code"] == -32020
    assert lying.json()["id"] == "c-1"
    assert garbled.status_code == 400
    assert garbled.json()["error"]["code"] == -32700
    assert streamless.status_code == 405
