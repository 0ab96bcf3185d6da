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
from mcp_console.cli.connect import KEY_PLACEHOLDER, ClientKind, client_config
from mcp_console.settings import Settings

from .helpers import GatewayEnv, http_process, result_of


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


async def test_the_printed_configuration_reaches_the_deployment(
    env: GatewayEnv, process_manager: ProcessManager, settings: Settings, tmp_path: Path
) -> None:
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


async def test_other_clients_and_placeholders(tmp_path: Path) -> None:
    cursor = await mcp_console(tmp_path, "alice/calc", "--client", "cursor")
    assert cursor.returncode == 0, cursor.stderr
    entry = json.loads(cursor.stdout)["mcpServers"]["calc"]
    assert entry["url"] == "http://127.0.0.1:8766/mcp/alice/calc"
    assert entry["headers"] == {"Authorization": f"Bearer {KEY_PLACEHOLDER}"}

    vscode = json.loads((await mcp_console(tmp_path, "alice/calc", "--client", "vscode")).stdout)
    (prompt,) = vscode["inputs"]
    assert prompt["password"] is True
    server = vscode["servers"]["calc"]
    assert server["type"] == "http"
    assert server["headers"]["Authorization"] == "Bearer ${input:" + prompt["id"] + "}"

    bad = await mcp_console(tmp_path, "a/b/c")
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: name a deployment as NAME or OWNER/NAME")
    keyless = await mcp_console(tmp_path, "alice/calc", "--with-key")
    assert keyless.returncode == 1
    assert "no API key to print" in keyless.stderr


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
