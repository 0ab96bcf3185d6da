"""A version published as a command serving HTTP deploys and answers over Streamable HTTP,
as a process ({port} in its arguments) and on Docker (the example server, on $PORT)."""

from __future__ import annotations

import json
from typing import Any

import docker

from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import Transport
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice

from ..catalogs import all_healthy, call_through_gateway, wait_for
from .conftest import in_thread, scope_containers

EXAMPLE = ["{python}", "-m", "mcp_console.devtools.example_server", "--transport", "http"]


def _server_json(*args: str) -> str:
    """The example server as a command serving HTTP, described in our ``_meta``."""
    document: dict[str, Any] = {
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        "name": "io.mcp-console/http-example",
        "description": "The example server over Streamable HTTP",
        "version": "1.0.0",
        "_meta": {
            "io.mcp-console/catalog": {
                "name": "http-example",
                "command": [*EXAMPLE, *args],
                "transport": "streamable-http",
            }
        },
    }
    return json.dumps(document)


async def _deploy_and_call(runtime: Runtime, text: str, choice: RuntimeChoice) -> Any:
    admin = runtime.local_admin
    assert admin is not None
    service = await runtime.catalog.publish_document(admin, text, "server.json")
    assert service.versions[0].transport == Transport.STREAMABLE_HTTP
    await runtime.deployments.create(
        admin, DeploymentCreate(service="http-example", name="web", runtime=choice)
    )
    detail = await wait_for(runtime, admin, "web", all_healthy)
    [instance] = detail.instances
    assert detail.transport == "streamable-http"
    assert instance.url is not None
    assert instance.url.startswith("http://127.0.0.1:")
    result = await call_through_gateway(runtime, instance, "add", {"a": 40, "b": 2})
    assert result.structured_content == {"result": 42}
    return instance


async def test_a_command_serving_http_on_its_port_placeholder_runs_as_a_process(
    live: Runtime,
) -> None:
    instance = await _deploy_and_call(live, _server_json("--port", "{port}"), RuntimeChoice.PROCESS)
    assert instance.driver == "process"


async def test_the_example_server_serving_http_on_port_runs_on_docker(
    live_docker: Runtime,
    docker_client: docker.DockerClient,
    docker_scope: str,
    base_image: str,
) -> None:
    # No {port}: the server reads $PORT (and $HOST) as the console sets them.
    instance = await _deploy_and_call(live_docker, _server_json(), RuntimeChoice.DOCKER)
    assert instance.driver == "docker"
    [container] = await in_thread(scope_containers, docker_client, docker_scope)
    env = container.attrs["Config"]["Env"]
    assert "HOST=0.0.0.0" in env
    assert any(item.startswith("PORT=") for item in env)
