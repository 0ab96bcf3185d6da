"""``mcp-console connect`` while a daemon serves: the URL its gateway is really bound to."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from mcp_console.backend.runtime import Runtime
from mcp_console.settings import Settings
from tests.cli.commands import Cli
from tests.gateway.helpers import result_of

from ..catalogs import SETTLE_TIMEOUT, process_version, publish


async def test_connect_prints_the_daemons_gateway_url_that_works(cli: Cli, tmp_path: Path) -> None:
    async with Runtime(Settings(data_dir=tmp_path / "data")) as runtime:
        await publish(runtime, "svc", process_version("1.0.0"))
    cli("deploy", "create", "svc", "--name", "web")  # starts the daemon (gateway on port 0)
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while (shown := cli.json("deploy", "show", "web"))["ready_replicas"] != 1:
        assert time.monotonic() < deadline, shown
        time.sleep(0.3)
    printed = cli("connect", "web", "--with-key")
    missing = cli("connect", "nosuch", ok=False)

    config = json.loads(printed.stdout)
    # Where the daemon's gateway listens, not the configured port 0.
    assert config["url"] == shown["endpoint_url"]
    assert config["url"].endswith("/mcp/admin/web")
    assert not config["url"].startswith("http://127.0.0.1:0/")
    async with (
        httpx2.AsyncClient(headers=config["headers"], timeout=60) as http,
        Client(streamable_http_client(config["url"], http_client=http)) as client,
    ):
        assert await result_of(client, "add", {"a": 2, "b": 3}) == 5
    assert missing.stdout == ""
    assert missing.stderr == "error: no deployment named 'nosuch' (name)\n"
