"""Deployments as containers: our example image and mcp-server-time built from PyPI."""

from __future__ import annotations

from typing import Any

import anyio
import docker
import pytest

from mcp_console.backend.deploy.drivers.base import LABEL_DEPLOYMENT, LABEL_INSTANCE, LABEL_VERSION
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import VersionCreate
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.settings import Settings

from ..catalogs import all_healthy, call, healthy, image_version, publish, time_version, wait_for
from .conftest import fast_deploy_settings, in_thread, scope_containers


def deployment(**fields: Any) -> DeploymentCreate:
    return DeploymentCreate.model_validate(
        {"service": "svc", "name": "svc", "runtime": RuntimeChoice.DOCKER, **fields}
    )


def cases(example_image: str) -> dict[str, tuple[VersionCreate, str, dict[str, Any]]]:
    return {
        "example-stdio": (image_version(example_image, "1.0.0"), "add", {"a": 20, "b": 22}),
        "example-http": (image_version(example_image, "1.0.0", http=True), "add", {"a": 1, "b": 2}),
        "time-from-pypi": (time_version(), "get_current_time", {"timezone": "UTC"}),
    }


@pytest.mark.parametrize("case", ["example-stdio", "example-http", "time-from-pypi"])
async def test_containers_become_healthy_and_answer_tools_call_at_the_instance(
    live_docker: Runtime,
    docker_client: docker.DockerClient,
    docker_scope: str,
    example_image: str,
    base_image: str,
    case: str,
) -> None:
    version, tool, arguments = cases(example_image)[case]
    admin = await publish(live_docker, "svc", version)

    await live_docker.deployments.create(admin, deployment())
    detail = await wait_for(live_docker, admin, "svc", all_healthy)

    [instance] = detail.instances
    assert detail.driver == "docker"
    assert healthy(instance)
    result = await call(live_docker, instance, tool, arguments)
    assert not result.is_error, result
    containers = await in_thread(scope_containers, docker_client, docker_scope)
    [container] = [c for c in containers if c.labels[LABEL_INSTANCE] == instance.name]
    labels = container.labels
    assert labels[LABEL_VERSION] == detail.version
    assert labels[LABEL_DEPLOYMENT]
    if case == "time-from-pypi":
        assert "mcp-console/svc:2026.10.19" in container.image.tags
    if case == "example-http":
        assert instance.url is not None
        assert instance.url.startswith("http://127.0.0.1:")
    # Every container of the deployment is hardened: a stdio server's warm session instance
    # (per-session by default) as much as the replica.
    for each in containers:
        config = each.attrs["HostConfig"]
        assert config["CapDrop"] == ["ALL"]
        assert config["ReadonlyRootfs"] is True
        if case != "example-http":
            assert config["NetworkMode"] == "none"


@pytest.fixture
def live_settings(live_settings: Settings, scope: str) -> Settings:
    """Health checks every 5 s: replacement must come well within two intervals."""
    return live_settings.model_copy(
        update={"deploy": fast_deploy_settings(scope, health_interval=5.0)}
    )


async def test_a_killed_container_is_replaced_within_two_health_intervals(
    live_docker: Runtime,
    docker_client: docker.DockerClient,
    docker_scope: str,
    example_image: str,
) -> None:
    interval = live_docker.settings.deploy.health_interval
    admin = await publish(live_docker, "svc", image_version(example_image, "1.0.0", http=True))
    await live_docker.deployments.create(admin, deployment())
    [before] = (await wait_for(live_docker, admin, "svc", all_healthy)).instances
    [container] = await in_thread(scope_containers, docker_client, docker_scope)

    await in_thread(container.kill)
    with anyio.fail_after(2 * interval):
        detail = await wait_for(
            live_docker,
            admin,
            "svc",
            lambda d: all_healthy(d) and d.instances[0].port != before.port,
        )

    [after] = detail.instances
    assert "exited with code 137" in (after.last_error or "")
    assert (await call(live_docker, after, "whoami", {})).structured_content == {
        "result": after.name
    }
    [replacement] = await in_thread(scope_containers, docker_client, docker_scope)
    assert replacement.id != container.id
    assert replacement.status == "running"
