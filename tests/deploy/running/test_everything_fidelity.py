"""The reference server-everything (npm, stdio) through the gateway, against itself run directly:
the same tools, its questions answered by the right client, its messages heard, and two
sessions that never see each other's state."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, TextContent

from mcp_console.backend.deploy.drivers.base import NpmPackage
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.deploy import DeploymentDetail, RuntimeChoice
from tests.gateway.client_side import MESSAGE_TIMEOUT, ClientSide

from ..catalogs import all_healthy, wait_for
from .test_npm_deploy import (  # noqa: F401 (fixtures)
    EVERYTHING,
    deployment,
    live_settings,
    npm_caches,
    publish_server_json,
)

PACKAGE = NpmPackage("@modelcontextprotocol/server-everything", "2026.8.31")
# Handshake-era subscriptions and log levels are what this server offers.
pytestmark = [
    pytest.mark.xdist_group("npm"),
    pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning"),
]


def text_of(result: CallToolResult) -> str:
    """All the text a tool returned."""
    assert not result.is_error, result.content
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


@asynccontextmanager
async def through_gateway(
    detail: DeploymentDetail, key: str, side: ClientSide
) -> AsyncIterator[Client]:
    """The official SDK client on the deployment's endpoint, with ``side``'s callbacks."""
    assert detail.endpoint_url is not None
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=MESSAGE_TIMEOUT) as http,
        Client(
            streamable_http_client(detail.endpoint_url, http_client=http),
            read_timeout_seconds=MESSAGE_TIMEOUT,
            **side.kwargs(),
        ) as client,
    ):
        yield client


def tools(listed: Any) -> list[dict[str, Any]]:
    return sorted(
        (t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed.tools),
        key=lambda t: str(t["name"]),
    )


async def test_server_everything_on_processes_through_the_gateway_is_the_server_itself(
    live: Runtime,
) -> None:
    await is_the_server_itself(live, RuntimeChoice.PROCESS)


async def test_server_everything_in_containers_through_the_gateway_is_the_server_itself(
    live_docker: Runtime,
    base_image: str,  # the base images its image builds on
) -> None:
    await is_the_server_itself(live_docker, RuntimeChoice.DOCKER)


async def is_the_server_itself(live: Runtime, kind: RuntimeChoice) -> None:
    """Deploy server-everything on ``kind`` and compare it through the gateway with itself."""
    admin = await publish_server_json(live, "server-everything.json")
    await live.deployments.create(admin, deployment(EVERYTHING, "everything", kind, replicas=2))
    detail = await wait_for(live, admin, "everything", all_healthy)
    # A stdio server whose author said nothing keeps state: a server per client session.
    assert detail.session_mode == "per-session"
    assert detail.driver == kind.value
    installed, node = await live.drivers.node.for_process(PACKAGE)
    direct = StdioServerParameters(
        command=str(node.path), args=[str(installed.root / installed.script()), "stdio"]
    )
    key = await live.users.create_key(admin, admin.name, label="fidelity")
    ann, bob, itself = ClientSide("ann"), ClientSide("bob"), ClientSide("direct")
    data = "data:text/plain;base64," + base64.b64encode(b"ann's file").decode()

    with anyio.fail_after(180):
        async with (
            Client(direct, read_timeout_seconds=MESSAGE_TIMEOUT, **itself.kwargs()) as reference,
            through_gateway(detail, key, ann) as first,
            through_gateway(detail, key, bob) as second,
        ):
            # The same tools, with the client's capabilities: sampling, elicitation and roots
            # tools are offered to a client that can answer them.
            await ann.until("the tool list's change", lambda: "tools/list_changed" in ann.kinds())
            await itself.until(
                "the tool list's change", lambda: "tools/list_changed" in itself.kinds()
            )
            listed = tools(await first.list_tools())
            assert listed == tools(await reference.list_tools())
            names = {tool["name"] for tool in listed}
            assert {"trigger-sampling-request", "trigger-elicitation-request"} <= names
            assert "get-roots-list" in names

            # The server asks its client: each question reaches that client, and back.
            sampled = text_of(
                await first.call_tool("trigger-sampling-request", {"prompt": "hi", "maxTokens": 9})
            )
            assert "ann sampled" in sampled
            assert [p.max_tokens for p in ann.sampled] == [9]
            elicited = text_of(await first.call_tool("trigger-elicitation-request", {}))
            assert "- Name: ann answered" in elicited
            roots = text_of(await first.call_tool("get-roots-list", {}))
            assert ann.root in roots
            assert bob.root not in roots
            assert ann.roots_asked >= 1

            # Progress for a call, logs, list changes and resource updates all arrive.
            await first.call_tool(
                "trigger-long-running-operation",
                {"duration": 0.2, "steps": 2},
                progress_callback=ann.on_progress,
            )
            assert [step for step, _ in ann.progress] == [1, 2]
            await first.set_logging_level("debug")
            await first.call_tool("toggle-simulated-logging", {})
            await ann.until(
                "a simulated log message",
                lambda: any("-level message" in str(log.data) for log in ann.logs),
            )
            watched = "demo://resource/static/document/architecture.md"
            await first.subscribe_resource(watched)
            await first.call_tool("toggle-subscriber-updates", {})
            await ann.until(
                "the update of the resource it watches",
                lambda: f"resources/updated {watched}" in ann.kinds(),
            )

            # State stays in its session: ann's new resource is listed and read only by ann.
            made = await first.call_tool(
                "gzip-file-as-resource",
                {"name": "ann.gz", "data": data, "outputType": "resourceLink"},
            )
            assert not made.is_error, made.content
            await ann.until(
                "the resource list's change",
                lambda: "notifications/resources/list_changed" in ann.kinds(),
            )
            uri = "demo://resource/session/ann.gz"
            assert uri in {str(r.uri) for r in (await first.list_resources()).resources}
            assert uri not in {str(r.uri) for r in (await second.list_resources()).resources}
            read = await first.read_resource(uri)
            assert read.contents
            with pytest.raises(MCPError) as unknown:
                await second.read_resource(uri)
            assert uri in unknown.value.error.message
            # Nothing of ann's reached bob.
            assert bob.sampled == []
            assert bob.elicited == []
            assert not any("-level message" in str(log.data) for log in bob.logs)
            assert f"resources/updated {watched}" not in bob.kinds()


async def test_a_shared_deployment_of_it_promises_only_what_it_delivers(live: Runtime) -> None:
    admin = await publish_server_json(live, "server-everything.json")
    await live.deployments.create(
        admin,
        deployment(EVERYTHING, "everything", RuntimeChoice.PROCESS, session_mode="shared"),
    )
    detail = await wait_for(live, admin, "everything", all_healthy)
    key = await live.users.create_key(admin, admin.name, label="fidelity")
    ann = ClientSide("ann")
    with anyio.fail_after(120):
        async with through_gateway(detail, key, ann) as client:
            advertised = client.server_capabilities
            names = {tool.name for tool in (await client.list_tools()).tools}
            echoed = text_of(await client.call_tool("echo", {"message": "shared"}))
            with pytest.raises(MCPError, match="shares one server connection"):
                await client.subscribe_resource("demo://resource/static/document/architecture.md")

    # Opened by the gateway for everyone, the server offers no tool that asks a client, and
    # the gateway promises no notification it would drop.
    assert "trigger-sampling-request" not in names
    assert advertised is not None
    assert advertised.logging is None
    assert advertised.resources is not None
    assert not advertised.resources.subscribe
    assert not advertised.resources.list_changed
    assert advertised.tools is not None
    assert not advertised.tools.list_changed
    assert ann.sampled == []
    assert "shared" in echoed
