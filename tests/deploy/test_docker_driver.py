"""DockerManager against the real engine: hardened stdio and HTTP servers, adoption, events."""

from __future__ import annotations

import docker
import docker.errors
import httpx
import pytest
from mcp import Client

from mcp_console.backend.deploy.drivers.base import (
    LABEL_DEPLOYMENT,
    InstanceSpec,
    ResourceLimits,
    RuntimeDriver,
)
from mcp_console.backend.deploy.drivers.docker import DockerManager
from mcp_console.backend.deploy.drivers.engine import Engine
from mcp_console.backend.stdio.sdk_transport import stdio_transport
from mcp_console.schemas.errors import Conflict, Invalid, NotFound, Unavailable

from .helpers import RUN_ID, TEST_LABEL, new_id, next_event, wait_until_ready

pytestmark = pytest.mark.docker

SECRET = "tok-3f1c9a7d5b2e"


# Inside its container the server must listen on every interface to be published.
HTTP_ARGS = ("--transport", "http", "--host", "0.0.0.0", "--port", "{port}")  # noqa: S104


def example_spec(image: str, transport: str = "stdio", *args: str) -> InstanceSpec:
    http = transport != "stdio"
    return InstanceSpec(
        deployment_id=f"dep-{new_id()}",
        deployment_name="Example",
        instance_id="i1",
        version="v1",
        transport="streamable-http" if http else "stdio",
        image=image,
        args=(*(HTTP_ARGS if http else ()), *args),
        secrets={"API_TOKEN": SECRET},
        limits=ResourceLimits(cpus=0.5, memory_mb=256, pids=64),
    )


async def test_stdio_server_runs_hardened_without_network_and_answers(
    docker_manager: DockerManager, docker_client: docker.DockerClient, example_image: str
) -> None:
    driver: RuntimeDriver = docker_manager  # checked statically by mypy, at runtime below
    assert isinstance(driver, RuntimeDriver)
    spec = example_spec(example_image)
    handle = await driver.start(spec)
    assert handle.name == f"mcp-console-{spec.deployment_id}-i1"

    channel = await docker_manager.open_stdio(handle.ref)
    async with Client(stdio_transport(channel)) as client:
        added = await client.call_tool("add", {"a": 2, "b": 40})
        counts = [(await client.call_tool("counter", {})).structured_content for _ in range(2)]
        who = await client.call_tool("whoami", {})
    assert added.structured_content == {"result": 42}
    assert counts == [{"result": 1}, {"result": 2}]
    assert who.structured_content == {"result": "i1"}

    attrs = docker_client.api.inspect_container(handle.ref)
    host = attrs["HostConfig"]
    assert host["CapDrop"] == ["ALL"]
    assert host["ReadonlyRootfs"] is True
    assert "no-new-privileges" in host["SecurityOpt"]
    assert host["Memory"] == 256 * 1024 * 1024
    assert host["PidsLimit"] == 64
    assert host["NanoCpus"] == 500_000_000
    assert host["NetworkMode"] == "none"
    assert host["LogConfig"]["Type"] == "none"
    assert attrs["Config"]["User"] == "65534:65534"
    labels = attrs["Config"]["Labels"]
    assert labels[LABEL_DEPLOYMENT] == spec.deployment_id
    assert not any(SECRET in key or SECRET in value for key, value in labels.items())
    assert SECRET not in attrs["Name"]
    # stderr is captured from the attach stream even though the container has no log driver.
    assert any("serving stdio" in line for line in await docker_manager.logs(handle.ref))


async def test_http_server_is_published_on_loopback_only_and_answers(
    docker_manager: DockerManager, docker_client: docker.DockerClient, example_image: str
) -> None:
    handle = await docker_manager.start(example_spec(example_image, "http"))
    assert handle.port is not None
    assert handle.url == f"http://127.0.0.1:{handle.port}/mcp"
    bindings = docker_client.api.inspect_container(handle.ref)["HostConfig"]["PortBindings"]
    assert [b["HostIp"] for b in bindings["8000/tcp"]] == ["127.0.0.1"]

    await wait_until_ready(handle.url)
    async with Client(handle.url) as client:
        who = await client.call_tool("whoami", {})
        echoed = await client.call_tool("echo", {"text": "héllo"})
    assert who.structured_content == {"result": "i1"}
    assert echoed.structured_content == {"result": "héllo"}
    async with httpx.AsyncClient() as http:
        health = await http.get(f"http://127.0.0.1:{handle.port}/health")
    assert health.json() == {"ok": True, "instance": "i1"}
    assert any("Uvicorn running" in line for line in await docker_manager.logs(handle.ref))


async def test_a_new_manager_adopts_running_containers_and_reattaches_stdio(
    docker_manager: DockerManager, example_image: str
) -> None:
    stdio_spec = example_spec(example_image)
    http_spec = example_spec(example_image, "http")
    stdio_handle = await docker_manager.start(stdio_spec)
    http_handle = await docker_manager.start(http_spec)
    channel = await docker_manager.open_stdio(stdio_handle.ref)
    async with Client(stdio_transport(channel)) as client:
        first = await client.call_tool("counter", {})
    assert first.structured_content == {"result": 1}
    await docker_manager.close()  # the backend goes away; its containers must not

    successor = DockerManager(scope_labels={TEST_LABEL: RUN_ID})
    try:
        found = {m.ref: m for m in await successor.list_managed()}
        stdio_found, http_found = found[stdio_handle.ref], found[http_handle.ref]
        assert (stdio_found.deployment_id, stdio_found.instance_id) == (
            stdio_spec.deployment_id,
            "i1",
        )
        assert (stdio_found.version, stdio_found.transport) == ("v1", "stdio")
        assert stdio_found.running
        assert http_found.running
        assert http_found.url == http_handle.url

        channel = await successor.open_stdio(stdio_handle.ref)
        async with Client(stdio_transport(channel)) as client:
            again = await client.call_tool("counter", {})
        # The same server process kept its state across our restart.
        assert again.structured_content == {"result": 2}
    finally:
        await successor.close()


async def test_killing_a_container_yields_a_die_event_with_exit_code_137(
    docker_manager: DockerManager, docker_client: docker.DockerClient, example_image: str
) -> None:
    events = docker_manager.events()
    spec = example_spec(example_image)
    handle = await docker_manager.start(spec)
    started = await next_event(events, lambda e: e.kind == "start" and e.ref == handle.ref)
    assert started.instance_id == "i1"

    docker_client.containers.get(handle.ref).kill()
    died = await next_event(events, lambda e: e.kind == "die" and e.ref == handle.ref)
    assert died.exit_code == 137
    assert (died.deployment_id, died.version) == (spec.deployment_id, "v1")
    assert not await docker_manager.is_running(handle.ref)
    [managed] = [m for m in await docker_manager.list_managed() if m.ref == handle.ref]
    assert (managed.running, managed.exit_code) == (False, 137)


async def test_fail_at_start_is_visible_in_events_and_logs(
    docker_manager: DockerManager, example_image: str
) -> None:
    events = docker_manager.events()
    handle = await docker_manager.start(example_spec(example_image, "stdio", "--fail-at-start"))
    died = await next_event(events, lambda e: e.kind == "die" and e.ref == handle.ref)
    assert died.exit_code == 3
    # Attached before start, so even the first and only line is kept.
    assert any("--fail-at-start" in line for line in await docker_manager.logs(handle.ref))


async def test_stop_and_remove_leave_nothing_behind(
    docker_manager: DockerManager, docker_client: docker.DockerClient, example_image: str
) -> None:
    spec = example_spec(example_image, "http")
    handle = await docker_manager.start(spec)
    assert await docker_manager.is_running(handle.ref)
    assert await docker_manager.stop(handle.ref, timeout=5) is not None
    assert not await docker_manager.is_running(handle.ref)
    await docker_manager.remove(handle.ref)
    left = docker_client.containers.list(
        all=True, filters={"label": f"{LABEL_DEPLOYMENT}={spec.deployment_id}"}
    )
    assert left == []
    assert handle.ref not in {m.ref for m in await docker_manager.list_managed()}
    with pytest.raises(NotFound):
        await docker_manager.is_running(handle.ref)


async def test_the_reference_time_server_image_runs_over_stdio(
    docker_manager: DockerManager, time_server_image: str
) -> None:
    spec = InstanceSpec(
        deployment_id=f"time-{new_id()}",
        instance_id="i1",
        version="2026.10.19",
        transport="stdio",
        image=time_server_image,
    )
    handle = await docker_manager.start(spec)
    channel = await docker_manager.open_stdio(handle.ref)
    async with Client(stdio_transport(channel)) as client:
        result = await client.call_tool("get_current_time", {"timezone": "Europe/Warsaw"})
    assert not result.is_error
    assert result.structured_content is not None
    assert result.structured_content["timezone"] == "Europe/Warsaw"


async def test_errors_name_what_is_wrong(docker_manager: DockerManager, example_image: str) -> None:
    with pytest.raises(NotFound) as missing:
        await docker_manager.start(example_spec("mcp-console/no-such-image:1"))
    assert missing.value.field == "image"
    with pytest.raises(Invalid) as no_image:
        await docker_manager.start(
            InstanceSpec(deployment_id="d", instance_id="i", version="v", transport="stdio")
        )
    assert no_image.value.field == "image"

    spec = example_spec(example_image)
    await docker_manager.start(spec)
    with pytest.raises(Conflict):
        await docker_manager.start(spec)

    unreachable = DockerManager(Engine("unix:///nonexistent/docker.sock"))
    with pytest.raises(Unavailable) as down:
        await unreachable.list_managed()
    assert "/nonexistent/docker.sock" in down.value.message
