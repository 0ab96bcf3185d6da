"""``mcp-console connect``: a client configuration that works as printed."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from mcp_console.backend.deploy.drivers.process import ProcessManager
from mcp_console.backend.runtime import Runtime
from mcp_console.cli.connect import KEY_PLACEHOLDER, ClientKind, client_config
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice, ShareCreate
from mcp_console.settings import Settings
from tests.deploy.catalogs import process_version, publish

from .helpers import Caller, GatewayEnv, http_process, result_of


async def mcp_console(
    data_dir: Path, *args: str, database_url: str | None = None, api_key: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MCP_CONSOLE_DATA_DIR": str(data_dir)}
    for name, value in (("DATABASE_URL", database_url), ("API_KEY", api_key)):
        env.pop(f"MCP_CONSOLE_{name}", None)
        if value is not None:
            env[f"MCP_CONSOLE_{name}"] = value
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "mcp_console", "connect", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def deployment_row(runtime: Runtime, owner: Caller, name: str) -> None:
    """A deployment ``name`` of ``owner`` recorded in the database (no controller runs here:
    the test routes the gateway to its instance itself)."""
    await publish(runtime, "svc", process_version("1.0.0", http=True))
    await runtime.deployments.create(
        owner.principal, DeploymentCreate(service="svc", name=name, runtime=RuntimeChoice.PROCESS)
    )


async def test_the_printed_configuration_reaches_the_deployment(
    env: GatewayEnv,
    runtime: Runtime,
    process_manager: ProcessManager,
    settings: Settings,
    tmp_path: Path,
) -> None:
    await deployment_row(runtime, env.owner, "calc")
    env.deploy(await http_process(process_manager, "one"), name="calc")
    printed = await mcp_console(
        tmp_path,
        "calc",
        "--client",
        "json",
        "--with-key",
        "--gateway-url",
        env.url,
        database_url=settings.resolved_database_url,
        api_key=env.owner.key,
    )
    assert printed.returncode == 0, printed.stderr
    config = json.loads(printed.stdout)
    assert config["url"] == f"{env.url}/mcp/alice/calc"  # the caller's own deployment
    async with (
        httpx2.AsyncClient(headers=config["headers"]) as http,
        Client(streamable_http_client(config["url"], http_client=http)) as client,
    ):
        assert await result_of(client, "add", {"a": 1, "b": 2}) == 3


async def test_other_clients_placeholders_and_unknown_deployments(
    env: GatewayEnv, runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    await deployment_row(runtime, env.owner, "calc")
    url = settings.resolved_database_url
    # No daemon serves: the configured gateway address, where the console's gateway listens.
    cursor = await mcp_console(tmp_path, "alice/calc", "--client", "cursor", database_url=url)
    assert cursor.returncode == 0, cursor.stderr
    entry = json.loads(cursor.stdout)["mcpServers"]["calc"]
    assert entry["url"] == "http://127.0.0.1:8766/mcp/alice/calc"
    assert entry["headers"] == {"Authorization": f"Bearer {KEY_PLACEHOLDER}"}

    vscode = await mcp_console(tmp_path, "alice/calc", "--client", "vscode", database_url=url)
    (prompt,) = json.loads(vscode.stdout)["inputs"]
    assert prompt["password"] is True
    server = json.loads(vscode.stdout)["servers"]["calc"]
    assert server["type"] == "http"
    assert server["headers"]["Authorization"] == "Bearer ${input:" + prompt["id"] + "}"

    bad = await mcp_console(tmp_path, "a/b/c", database_url=url)
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: name a deployment as NAME or OWNER/NAME")
    keyless = await mcp_console(tmp_path, "alice/calc", "--with-key", database_url=url)
    assert keyless.returncode == 1
    assert "no API key to print" in keyless.stderr

    # A deployment that does not exist gets no configuration, and the reason.
    mine = await mcp_console(tmp_path, "nosuch", database_url=url, api_key=env.owner.key)
    theirs = await mcp_console(tmp_path, "bob/calc", database_url=url)
    assert (mine.returncode, mine.stdout) == (1, "")
    assert mine.stderr == "error: no deployment named 'nosuch' (name)\n"
    assert (theirs.returncode, theirs.stdout) == (1, "")
    assert theirs.stderr == "error: no deployment named 'bob/calc' (name)\n"


async def test_a_deployment_shared_with_the_caller_is_reached_as_owner_slash_name(
    env: GatewayEnv,
    runtime: Runtime,
    process_manager: ProcessManager,
    settings: Settings,
    tmp_path: Path,
) -> None:
    await deployment_row(runtime, env.owner, "calc")
    env.deploy(await http_process(process_manager, "one"), name="calc")
    db = settings.resolved_database_url

    async def as_bob(deployment: str) -> subprocess.CompletedProcess[str]:
        return await mcp_console(
            tmp_path,
            deployment,
            "--with-key",
            "--gateway-url",
            env.url,
            database_url=db,
            api_key=env.friend.key,
        )

    hidden = await as_bob("alice/calc")
    assert (hidden.returncode, hidden.stdout) == (1, "")
    assert hidden.stderr == "error: no deployment named 'alice/calc' (name)\n"

    await runtime.deployments.share(env.owner.principal, "calc", ShareCreate(user="bob"))
    shared = await as_bob("alice/calc")
    missing = await as_bob("alice/none")
    assert shared.returncode == 0, shared.stderr
    config = json.loads(shared.stdout)
    assert config["url"] == f"{env.url}/mcp/alice/calc"
    async with (
        httpx2.AsyncClient(headers=config["headers"]) as http,
        Client(streamable_http_client(config["url"], http_client=http)) as client,
    ):
        assert await result_of(client, "add", {"a": 2, "b": 3}) == 5
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr == "error: no deployment named 'alice/none' (name)\n"


def test_claude_desktop_bridges_to_the_endpoint_with_the_key_in_its_environment() -> None:
    config: dict[str, Any] = client_config(
        ClientKind.CLAUDE_DESKTOP, "calc", "http://127.0.0.1:8766/mcp/alice/calc", "mcpc_k"
    )
    server = config["mcpServers"]["calc"]
    assert server["command"] == "npx"
    assert "http://127.0.0.1:8766/mcp/alice/calc" in server["args"]
    assert server["env"] == {"AUTH_HEADER": "Bearer mcpc_k"}
    # The key travels through the environment, not the (visible) argument list.
    assert not any("mcpc_k" in arg for arg in server["args"])
