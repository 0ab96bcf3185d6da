"""Live-figure test helpers: a user with a key, the example server deployed, raw calls, the
CLI on a catalog with the example server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import VersionCreate
from mcp_console.schemas.deploy import DeploymentCreate, DeploymentDetail, RuntimeChoice
from mcp_console.schemas.users import Role, UserCreate
from mcp_console.settings import Settings
from tests.cli.commands import Cli, stop_daemon
from tests.deploy.catalogs import all_healthy, process_version, publish, wait_for
from tests.gateway.helpers import CLIENT_TIMEOUT, Caller

SERVICE = "example"
EXAMPLE_TOOLS = {"add", "echo", "counter", "whoami", "sleep"}
MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
}


@dataclass
class Deployed:
    """A running deployment of the example server, its owner and a user who is not."""

    detail: DeploymentDetail
    owner: Caller
    stranger: Caller

    @property
    def name(self) -> str:
        """The deployment's name (as its owner writes it)."""
        return self.detail.name

    @property
    def endpoint(self) -> str:
        """Its gateway endpoint."""
        assert self.detail.endpoint_url is not None
        return self.detail.endpoint_url


async def user(runtime: Runtime, name: str, role: Role = Role.USER) -> Caller:
    """A new user and their API key."""
    created = await runtime.users.create_user(None, UserCreate(name=name, role=role))
    return Caller(await runtime.users.authenticate(created.api_key), created.api_key)


async def deploy_example(
    runtime: Runtime,
    version: VersionCreate | None = None,
    kind: RuntimeChoice = RuntimeChoice.PROCESS,
    name: str = "calc",
) -> Deployed:
    """Publish the example server, let a new user ``alice`` deploy it; wait until healthy.

    Shared sessions: the monitor's figures and session lists are seen on the one instance
    every client reaches (per-session deployments have tests of their own).
    """
    await publish(runtime, SERVICE, version or process_version("1.0.0"))
    owner = await user(runtime, "alice")
    stranger = await user(runtime, "bob")
    new = DeploymentCreate(service=SERVICE, name=name, runtime=kind, session_mode="shared")
    await runtime.deployments.create(owner.principal, new)
    detail = await wait_for(runtime, owner.principal, name, all_healthy)
    return Deployed(detail, owner, stranger)


async def unknown_method(endpoint: str, caller: Caller) -> int:
    """One modern request for a method no server has: the server answers a JSON-RPC error."""
    headers = {
        **caller.headers,
        "content-type": "application/json",
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "bogus/method",
    }
    body = {"jsonrpc": "2.0", "id": 1, "method": "bogus/method", "params": {"_meta": MODERN_META}}
    async with httpx.AsyncClient(timeout=CLIENT_TIMEOUT) as http:
        response = await http.post(endpoint, json=body, headers=headers)
    assert response.json()["error"]["code"] == -32601
    return response.status_code


@contextmanager
def example_cli(data_dir: Path) -> Iterator[Cli]:
    """Commands on ``data_dir``, whose catalog has the example server (a local command); a
    daemon they start (or a console hands its deployments to) is stopped at the end."""

    async def catalog() -> None:
        async with Runtime(Settings(data_dir=data_dir)) as runtime:
            await publish(runtime, SERVICE, process_version("1.0.0"))

    asyncio.run(catalog())
    try:
        yield Cli(data_dir, "test-" + uuid.uuid4().hex[:10])
    finally:
        stop_daemon(data_dir)
