"""Gateway test helpers: a recording meter, callers with keys, clients, instances to route to."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from mcp_console.backend.deploy.drivers.base import InstanceSpec
from mcp_console.backend.deploy.drivers.process import ProcessManager
from mcp_console.backend.gateway.core import Gateway
from mcp_console.backend.gateway.records import RequestRecord
from mcp_console.backend.gateway.routing import (
    DeploymentRoute,
    EndSession,
    SessionMode,
    UpstreamInstance,
)
from mcp_console.schemas.users import Principal
from tests.deploy.helpers import EXAMPLE_COMMAND, new_id, wait_until_ready

STREAM_SERVER = Path(__file__).with_name("stream_server.py")
STREAM_COMMAND = (sys.executable, str(STREAM_SERVER))
HTTP_ARGS = ("--transport", "http", "--port", "{port}")
# A client's own patience: a gateway that swallowed a reply fails the test, never hangs it.
CLIENT_TIMEOUT = 30.0


class RecordingMeter:
    """A Meter that keeps every record and the sum of in-flight changes per instance."""

    def __init__(self) -> None:
        self.records: list[RequestRecord] = []
        self.inflight: dict[str, int] = {}

    def record(self, record: RequestRecord) -> None:
        self.records.append(record)

    def inflight_changed(self, deployment_id: int, instance_id: str, delta: int) -> None:
        self.inflight[instance_id] = self.inflight.get(instance_id, 0) + delta

    def calls(self, tool: str) -> list[RequestRecord]:
        """The records of ``tools/call`` requests to ``tool``."""
        return [r for r in self.records if r.method == "tools/call" and r.tool_name == tool]


@dataclass
class Caller:
    """A user with an API key."""

    principal: Principal
    key: str

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header for this caller."""
        return {"Authorization": f"Bearer {self.key}"}


@dataclass
class GatewayEnv:
    """A served gateway with three users: the owner, one it shares with, and a stranger."""

    gateway: Gateway
    url: str
    meter: RecordingMeter
    owner: Caller
    friend: Caller
    stranger: Caller
    _next_id: list[int] = field(default_factory=lambda: [100])

    def deploy(
        self, *instances: UpstreamInstance, mode: SessionMode = "shared", name: str = ""
    ) -> DeploymentRoute:
        """Route a new deployment of the owner's (shared with ``friend``) to ``instances``."""
        self._next_id[0] += 1
        route = self.gateway.routes.upsert_deployment(
            DeploymentRoute(
                deployment_id=self._next_id[0],
                owner_id=self.owner.principal.user_id,
                owner_name=self.owner.principal.name,
                name=name or f"svc-{self._next_id[0]}",
                session_mode=mode,
                allowed_user_ids=frozenset({self.friend.principal.user_id}),
            )
        )
        for instance in instances:
            self.gateway.routes.set_instance(route.deployment_id, instance)
        return route

    def endpoint(self, route: DeploymentRoute) -> str:
        """The deployment's URL on the gateway."""
        return f"{self.url}{route.path}"


@asynccontextmanager
async def connect(
    url: str, caller: Caller, mode: str = "auto", **kwargs: Any
) -> AsyncIterator[Client]:
    """An SDK client through the gateway, authenticated as ``caller``."""
    async with httpx2.AsyncClient(headers=caller.headers, timeout=CLIENT_TIMEOUT) as http:
        client = Client(
            streamable_http_client(url, http_client=http),
            mode=mode,
            read_timeout_seconds=CLIENT_TIMEOUT,
            **kwargs,
        )
        async with client:
            yield client


def innermost(exc: BaseException) -> BaseException:
    """The one exception inside (nested) single-member exception groups."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


async def result_of(client: Client, tool: str, arguments: dict[str, Any] | None = None) -> Any:
    """The structured result of a tool call that must succeed."""
    result = await client.call_tool(tool, arguments or {})
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content["result"]


async def start_http(
    pm: ProcessManager, instance_id: str, command: tuple[str, ...] = EXAMPLE_COMMAND
) -> tuple[UpstreamInstance, str]:
    """A server process on a loopback port, ready for MCP: the instance and its process ref."""
    args = HTTP_ARGS if command == EXAMPLE_COMMAND else ("--http", "{port}")
    handle = await pm.start(
        InstanceSpec(
            deployment_id=f"gw-{new_id()}",
            instance_id=instance_id,
            version="v1",
            transport="streamable-http",
            command=command,
            args=args,
        )
    )
    assert handle.url is not None
    await wait_until_ready(handle.url)
    return UpstreamInstance(instance_id, "streamable-http", url=handle.url), handle.ref


async def start_stdio(
    pm: ProcessManager, instance_id: str, command: tuple[str, ...] = EXAMPLE_COMMAND
) -> tuple[UpstreamInstance, str]:
    """A stdio server process (the gateway will own its channel) and its process ref."""
    handle = await pm.start(
        InstanceSpec(
            deployment_id=f"gw-{new_id()}",
            instance_id=instance_id,
            version="v1",
            transport="stdio",
            command=command,
        )
    )
    channel = await pm.open_stdio(handle.ref)
    return UpstreamInstance(instance_id, "stdio", channel=channel), handle.ref


async def http_process(
    pm: ProcessManager, instance_id: str, command: tuple[str, ...] = EXAMPLE_COMMAND
) -> UpstreamInstance:
    """A server process on a loopback port, ready for MCP, as a routable instance."""
    return (await start_http(pm, instance_id, command))[0]


async def stdio_process(
    pm: ProcessManager, instance_id: str, command: tuple[str, ...] = EXAMPLE_COMMAND
) -> UpstreamInstance:
    """A stdio server process as a routable instance."""
    return (await start_stdio(pm, instance_id, command))[0]


class ProcessProvider:
    """An InstanceProvider starting one server process (the example's) per session."""

    def __init__(
        self, pm: ProcessManager, transport: str, command: tuple[str, ...] = EXAMPLE_COMMAND
    ) -> None:
        self.pm = pm
        self.transport = transport
        self.command = command
        self.refs: dict[str, str] = {}
        self.released: list[str] = []
        self.started = 0

    async def acquire(
        self, route: DeploymentRoute, session_id: str, end_session: EndSession
    ) -> UpstreamInstance:
        self.started += 1
        instance_id = f"own-{self.started}"
        start = start_http if self.transport == "http" else start_stdio
        instance, ref = await start(self.pm, instance_id, self.command)
        self.refs[session_id] = ref
        return instance

    async def release(
        self, deployment_id: int, session_id: str, instance: UpstreamInstance
    ) -> None:
        ref = self.refs[session_id]
        await self.pm.stop(ref, timeout=5)
        await self.pm.remove(ref)
        self.released.append(session_id)


async def modern_tool_call(
    http: httpx2.AsyncClient, url: str, key: str, tool: str, arguments: dict[str, Any], call_id: int
) -> httpx2.Response:
    """One stateless 2026-07-28 ``tools/call`` posted by hand, as ``key``'s holder."""
    return await http.post(
        url,
        json={
            "jsonrpc": "2.0",
            "id": call_id,
            "method": "tools/call",
            "params": {
                "name": tool,
                "arguments": arguments,
                "_meta": {
                    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientCapabilities": {},
                },
            },
        },
        headers={
            "Authorization": f"Bearer {key}",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2026-07-28",
            "Mcp-Method": "tools/call",
            "Mcp-Name": tool,
        },
    )
