"""The real ``mcp-console`` in a 120x36 terminal, on the real backend, from an empty data dir
to requests showing in the monitor: what a newcomer does in their first minute."""

from __future__ import annotations

import json
import re
import socket
import uuid
from pathlib import Path
from typing import Any

import anyio
import docker
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.cli.commands import Cli
from tests.cli.terminal import Terminal

CALLS = 5
SIZE = (120, 36)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _call_through_gateway(config: dict[str, Any]) -> list[str]:
    """What ``add`` answers for CALLS calls on one session, as an MCP client configured by
    ``mcp-console connect`` would make them."""
    url, headers = config["url"], config["headers"]
    answers = []
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        for n in range(CALLS):
            result = await client.call_tool("add", {"a": n, "b": 40})
            answers.append(" ".join(getattr(c, "text", "") for c in result.content))
    return answers


def test_import_search_deploy_and_watch_requests_arrive(
    tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    # With a Docker engine answering, the console's default runtime is Docker, and the example
    # server runs in a container of its image, built on first use.
    assert docker_client.ping()
    cli = Cli(
        tmp_path / "data",
        f"e2e-{uuid.uuid4().hex[:10]}",
        MCP_CONSOLE_RUNTIME="auto",
        MCP_CONSOLE_GATEWAY_PORT=str(_free_port()),
        MCP_CONSOLE_API_PORT=str(_free_port()),
    )
    with Terminal([], cli.settings, tmp_path / "exit-status", size=SIZE) as console:
        console.wait_for("import the starter catalog")
        console.keys("i")
        console.wait_for("Import the starter catalog")
        console.keys("y")
        console.wait_for("3 published service(s)")

        # The market opens with the search box focused: type, then leave it for the results.
        console.keys(*"example")
        console.wait_for("1 match(es)")
        console.pause()
        console.keys("Enter")
        console.pause()
        console.keys("Enter")  # open the highlighted row
        console.wait_for("mcp-console's own example server")
        console.keys("d")
        # The form, once the version is loaded (the wizard's steps and fields show from the
        # start; ctrl+s reviews only once the version's configuration is in the form).
        console.wait_for("This version needs no configuration")
        console.pause()
        console.keys("C-s")  # the form's defaults, to the review page
        console.wait_for("Check the deployment")
        console.pause()
        console.keys("C-s")
        # Healthy, the wizard gives way to the monitor of the new deployment.
        console.wait_for("1/1 healthy", seconds=120)
        console.wait_for("no requests in the last")

        config = json.loads(cli("connect", "example", "--client", "json", "--with-key").stdout)
        answers = anyio.run(_call_through_gateway, config)
        assert answers == [str(n + 40) for n in range(CALLS)]

        # The gateway's figures reach the monitor's headline within its next refreshes.
        shown = console.wait_until(
            lambda screen: re.search(r"\d+(\.\d+)? req/s", screen) is not None,
            "the requests in the monitor",
        )
        assert "1/1 healthy" in shown
        assert "errors 0.0%" in shown
        # The console runs the deployment: quitting asks what becomes of it.
        console.keys("q")
        console.wait_for("Quit? 1 deployment is running here")
        console.pause()
        console.keys("Down")  # "Stop it"
        console.pause()
        console.keys("Enter")
        assert console.exit_status() == 0
        assert "stopped 1 deployment" in console.transcript()
