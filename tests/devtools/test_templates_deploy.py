"""Each server template, as its author goes: ``new``, ``dev test``, ``dev publish``, then
``dev deploy`` on the process runtime and on Docker, and a tool call through the gateway."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import docker
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.cli.commands import Cli, stop_daemon

# One backend (and one daemon) for every template: they share this module's fixture, so
# they run on one worker.
pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("server-templates")]

TEMPLATES = ("python-stdio", "python-http", "node-stdio")
# Fixed names: a template's package builds to the same bytes each time (reproducible wheels
# and npm tarballs), so its installs and images are reused from one run to the next.
NAMESPACE = "io.mcp-console.test"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cli, Path]]:
    """The console's commands on one data dir, and a directory for the projects."""
    root = tmp_path_factory.mktemp("templates")
    cli = Cli(
        root / "data",
        f"tpl-{uuid.uuid4().hex[:10]}",
        MCP_CONSOLE_GATEWAY_PORT=str(_free_port()),
        MCP_CONSOLE_API_PORT=str(_free_port()),
    )
    try:
        # Started first, so that every command (publish too) talks to it rather than
        # starting a backend of its own.
        cli("daemon", "--detach")
        yield cli, root / "projects"
    finally:
        for left in cli.json("deploy", "list"):
            cli("deploy", "delete", left["name"])
        stop_daemon(root / "data")


async def _greet_through_gateway(config: dict[str, Any], name: str) -> Any:
    """``greet``'s structured answer, as an MCP client configured by ``connect`` gets it."""
    async with (
        httpx2.AsyncClient(headers=config["headers"], timeout=60) as http,
        Client(streamable_http_client(config["url"], http_client=http)) as client,
    ):
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert listed["greet"].output_schema is not None
        result = await client.call_tool("greet", {"name": name, "excited": True})
        assert not result.is_error, result.content
        return result.structured_content


@pytest.mark.parametrize("template", TEMPLATES)
def test_new_test_publish_deploy_and_call(
    template: str, workspace: tuple[Cli, Path], docker_client: docker.DockerClient
) -> None:
    assert docker_client.ping()
    cli, projects = workspace
    name = f"tpl-{template}"
    project = projects / name
    cli("new", name, "--template", template, "--dir", str(project), "--namespace", NAMESPACE)
    assert (project / "server.json").is_file()

    tested = cli("dev", "test", "--dir", str(project))
    assert "3 passed" in tested.stdout or "# pass 3" in tested.stdout

    # The server started here, the inspector attached: a call and its structured answer.
    ran = cli("dev", "run", "--dir", str(project), "--call", "greet", "--arg", "name=Ada")
    assert 'structured: {"greeting": "Hello, Ada.", "length": 11}' in ran.stdout

    # Published from the author's own machine: another data dir, the console's URL and a key;
    # the deployments below install the package the daemon received.
    console = cli.settings
    token = Path(console["MCP_CONSOLE_DATA_DIR"]) / "admin.token"
    author = Cli(
        projects.parent / f"author-{template}",
        console["MCP_CONSOLE_DEPLOY__SCOPE"],
        MCP_CONSOLE_API_URL=f"http://127.0.0.1:{console['MCP_CONSOLE_API_PORT']}",
        MCP_CONSOLE_API_KEY=token.read_text().strip(),
    )
    published = author.json("dev", "publish", "--dir", str(project))
    version = next(v for v in published["versions"] if v["version"] == "0.1.0")
    # The version's API spec is what the running server listed, output schema included.
    (greet,) = version["api_spec"]["tools"]
    assert greet["name"] == "greet"
    assert set(greet["outputSchema"]["properties"]) == {"greeting", "length"}
    refused = author("dev", "publish", "--dir", str(project), ok=False)
    assert "is published already" in refused.stderr

    for runtime in ("process", "docker"):
        deployment = f"{name}-{runtime}"
        shown = cli.json(
            "dev", "deploy", "--dir", str(project), "--runtime", runtime, "--name", deployment
        )
        assert (shown["status"], shown["runtime"]) == ("RUNNING", runtime), shown
        config = json.loads(cli("connect", deployment, "--client", "json", "--with-key").stdout)
        answer = anyio.run(_greet_through_gateway, config, runtime)
        assert answer == {"greeting": f"Hello, {runtime}!", "length": len(runtime) + 8}
        if runtime == "process":
            # The deployed server lists what its version published (the docs' CI gate).
            server = f"{NAMESPACE}/{name}@0.1.0"
            assert "the server lists what" in cli("docs", deployment, "--check", server).stdout
        cli("deploy", "delete", deployment)
