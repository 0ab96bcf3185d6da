"""A secret reaches the server's environment and nothing else a person or a file could read."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import anyio
import docker
import pytest

from mcp_console.backend.runtime import Runtime
from mcp_console.backend.security.secrets import MASK
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice

from ..catalogs import (
    SECRET_SCHEMA,
    SETTLE_TIMEOUT,
    all_healthy,
    call,
    image_version,
    publish,
    shell_version,
    wait_for,
)
from .conftest import in_thread, scope_containers

TOKEN = "s3cr3t-0f-the-day-4b7e1d"


def _database_bytes(database_url: str) -> bytes:
    database = Path(database_url.split("///", 1)[1])
    return b"".join(path.read_bytes() for path in database.parent.glob(database.name + "*"))


def _create(runtime: RuntimeChoice) -> DeploymentCreate:
    return DeploymentCreate(
        service="svc",
        name="svc",
        config={"region": "us"},
        secrets={"api_token": TOKEN},
        runtime=runtime,
    )


async def test_a_secret_is_only_in_the_container_environment(
    live_docker: Runtime,
    docker_client: docker.DockerClient,
    docker_scope: str,
    example_image: str,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    admin = await publish(
        live_docker, "svc", image_version(example_image, "1.0.0", schema=SECRET_SCHEMA)
    )
    async with live_docker.events.subscribe() as events:
        await live_docker.deployments.create(admin, _create(RuntimeChoice.DOCKER))
        detail = await wait_for(live_docker, admin, "svc", all_healthy)
        assert (
            await call(live_docker, detail.instances[0], "add", {"a": 1, "b": 1})
        ).structured_content
        logs = await live_docker.deployments.logs(admin, "svc")
        history = await live_docker.deployments.history(admin, "svc")
        seen = [events.get_nowait() for _ in range(events.qsize())]

    # The replica and the instance kept warm for the next session (a stdio server gets one
    # per session): each has the secret in its environment and nowhere else.
    with anyio.fail_after(SETTLE_TIMEOUT):
        while len(containers := await in_thread(scope_containers, docker_client, docker_scope)) < 2:
            await anyio.sleep(0.1)
    assert len(containers) == 2
    for container in containers:
        attrs: dict[str, Any] = container.attrs
        env = attrs["Config"].pop("Env")
        assert f"API_TOKEN={TOKEN}" in env
        assert "REGION=us" in env
        assert TOKEN not in json.dumps(attrs)
        assert TOKEN not in json.dumps(container.labels)
    assert detail.config["api_token"] == MASK
    assert TOKEN not in detail.model_dump_json()
    assert TOKEN not in json.dumps([log.model_dump() for log in logs])
    assert TOKEN not in json.dumps([entry.model_dump(mode="json") for entry in history])
    assert seen
    assert TOKEN not in json.dumps(seen, default=str)
    assert TOKEN not in caplog.text
    assert TOKEN.encode() not in _database_bytes(database_url)


async def test_a_server_printing_its_secret_has_it_masked_in_logs_and_details(
    live: Runtime, database_url: str
) -> None:
    leaky = shell_version("1.0.0", 'echo "my token is $API_TOKEN" >&2', schema=SECRET_SCHEMA)
    admin = await publish(live, "svc", leaky)
    await live.deployments.create(admin, _create(RuntimeChoice.PROCESS))
    await wait_for(
        live, admin, "svc", lambda d: all_healthy(d) and bool(d.instances[0].stderr_tail)
    )

    [logs] = await live.deployments.logs(admin, "svc")
    detail = await live.deployments.get(admin, "svc")

    assert f"my token is {MASK}" in logs.lines
    assert f"my token is {MASK}" in detail.instances[0].stderr_tail
    assert TOKEN not in detail.model_dump_json()
    assert TOKEN.encode() not in _database_bytes(database_url)
