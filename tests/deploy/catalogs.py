"""Catalog entries and waits shared by the deployment tests."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult

from mcp_console.backend.runtime import Runtime
from mcp_console.backend.stdio.sdk_transport import stdio_transport
from mcp_console.schemas.catalog import PackageRef, ServiceCreate, Transport, VersionCreate
from mcp_console.schemas.deploy import DeploymentDetail, HealthState, InstanceView
from mcp_console.schemas.users import Principal

EXAMPLE_COMMAND = [sys.executable, "-m", "mcp_console.devtools.example_server"]
# Inside a container the server listens on every interface; the port is published on loopback.
CONTAINER_HTTP_ARGS = ["--transport", "http", "--host", "0.0.0.0", "--port", "{port}"]  # noqa: S104
PROCESS_HTTP_ARGS = ["--transport", "http", "--port", "{port}"]
TIME_PACKAGE = PackageRef(registry_type="pypi", identifier="mcp-server-time", version="2026.10.19")
SECRET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "region": {"type": "string", "enum": ["eu", "us"], "default": "eu"},
        "workers": {"type": "integer", "minimum": 1, "default": 2},
        "api_token": {"type": "string", "x-secret": True, "x-env": "API_TOKEN"},
    },
    "required": ["api_token"],
}
# Bounds on waiting for real servers, containers and processes on a loaded 2-core machine.
SETTLE_TIMEOUT = 90.0


def process_version(
    version: str, *extra: str, http: bool = False, schema: dict[str, Any] | None = None
) -> VersionCreate:
    """The example server run as a local command."""
    args = PROCESS_HTTP_ARGS if http else []
    return VersionCreate(
        version=version,
        command=[*EXAMPLE_COMMAND, *args, *extra],
        transport=Transport.STREAMABLE_HTTP if http else Transport.STDIO,
        config_schema=schema or {},
    )


def shell_version(
    version: str, script: str, *, schema: dict[str, Any] | None = None
) -> VersionCreate:
    """The example server (stdio) started by a shell script that runs ``script`` first."""
    server = " ".join(EXAMPLE_COMMAND)
    return VersionCreate(
        version=version,
        command=["/bin/sh", "-c", f"{script}\nexec {server}"],
        config_schema=schema or {},
    )


def image_version(
    image: str, version: str, *extra: str, http: bool = False, schema: dict[str, Any] | None = None
) -> VersionCreate:
    """The example server's image; ``extra`` arguments follow its entry point."""
    args = CONTAINER_HTTP_ARGS if http else []
    return VersionCreate(
        version=version,
        docker_image=image,
        command=[*args, *extra],
        transport=Transport.STREAMABLE_HTTP if http else Transport.STDIO,
        config_schema=schema or {},
    )


def time_version() -> VersionCreate:
    """mcp-server-time from PyPI (an image on Docker, a cached virtualenv as a process)."""
    return VersionCreate(version="2026.10.19", packages=[TIME_PACKAGE])


async def publish(runtime: Runtime, name: str, *versions: VersionCreate) -> Principal:
    """Register and publish a service with ``versions``; returns its author (the admin)."""
    admin = runtime.local_admin
    assert admin is not None
    await runtime.catalog.register(admin, ServiceCreate(name=name, description=f"{name} test"))
    for version in versions:
        await runtime.catalog.add_version(admin, name, version)
    await runtime.catalog.publish(admin, name)
    return admin


async def wait_for(
    runtime: Runtime,
    actor: Principal,
    name: str,
    ready: Callable[[DeploymentDetail], bool],
    timeout: float = SETTLE_TIMEOUT,
) -> DeploymentDetail:
    """Poll a deployment until ``ready`` holds (fails with its last state after ``timeout``)."""
    detail = await runtime.deployments.get(actor, name)
    try:
        with anyio.fail_after(timeout):
            while not ready(detail):
                await anyio.sleep(0.1)
                detail = await runtime.deployments.get(actor, name)
    except TimeoutError:
        raise AssertionError(f"{name} did not get there; last state: {detail!r}") from None
    return detail


def all_healthy(detail: DeploymentDetail) -> bool:
    """Every wanted replica of the current version is up and healthy."""
    return detail.status == "RUNNING" and detail.ready_replicas == detail.replicas


async def call(
    runtime: Runtime, instance: InstanceView, tool: str, arguments: dict[str, Any]
) -> CallToolResult:
    """Call a tool at the instance's own address: its URL, or its stdio channel.

    While a gateway serves, it owns every routed stdio channel: the call then goes through
    the deployment's endpoint as its owner (the local admin here).
    """
    if instance.url is not None:
        async with Client(instance.url) as client:
            return await client.call_tool(tool, arguments)
    if runtime.gateway is not None:
        return await call_through_gateway(runtime, instance, tool, arguments)
    assert instance.driver is not None
    assert instance.ref is not None
    async with (
        runtime.controller.stdio(instance.driver, instance.ref) as channel,
        Client(stdio_transport(channel)) as client,
    ):
        return await client.call_tool(tool, arguments)


async def call_through_gateway(
    runtime: Runtime, instance: InstanceView, tool: str, arguments: dict[str, Any]
) -> CallToolResult:
    """Call a tool on the deployment serving ``instance``, through the gateway."""
    admin = runtime.local_admin
    assert admin is not None
    [endpoint] = [
        d.endpoint_url
        for d in await runtime.deployments.list_deployments(admin)
        if instance.name
        in {i.name for i in (await runtime.deployments.get(admin, d.name)).instances}
    ]
    assert endpoint is not None
    key = await runtime.users.create_key(admin, admin.name, label="tests")
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=SETTLE_TIMEOUT) as http,
        Client(streamable_http_client(endpoint, http_client=http)) as client,
    ):
        return await client.call_tool(tool, arguments)


def healthy(instance: InstanceView) -> bool:
    """Whether an instance is serving and healthy."""
    return instance.status == "RUNNING" and instance.health is HealthState.HEALTHY


def pid_of_instance(instance: str) -> int:
    """The pid of the local process serving ``instance`` (read from its environment)."""
    needle = f"MCP_CONSOLE_INSTANCE_ID={instance}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0") and int(entry.name) != os.getpid():
            return int(entry.name)
    raise AssertionError(f"no process serves {instance}")
