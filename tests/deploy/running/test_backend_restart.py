"""kill -9 of the daemon in the middle of a deploy: on restart everything converges, and the
labels on the engine show that no orphan container is left."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import anyio
import docker
import pytest

from mcp_console.backend.deploy.driver_registry import SCOPE_LABEL
from mcp_console.backend.deploy.drivers.base import LABEL_DEPLOYMENT, LABEL_INSTANCE, InstanceSpec
from mcp_console.backend.deploy.drivers.docker import DockerManager
from mcp_console.backend.runtime import Runtime
from mcp_console.client.remote import RemoteClient
from mcp_console.schemas.deploy import DeploymentCreate, DeploymentDetail, RuntimeChoice
from mcp_console.schemas.errors import NotFound
from mcp_console.settings import Settings
from tests.daemon_process import DaemonProcess

from ..catalogs import SETTLE_TIMEOUT, all_healthy, image_version, publish
from .conftest import in_thread, scope_containers


class Daemon(DaemonProcess):
    """``mcp-console daemon`` as a real process on one data dir, deploying on Docker."""

    def __init__(self, data_dir: Path, scope: str) -> None:
        super().__init__(
            data_dir,
            {
                "MCP_CONSOLE_RUNTIME": "docker",
                "MCP_CONSOLE_DEPLOY__SCOPE": scope,
                "MCP_CONSOLE_DEPLOY__HEALTH_INTERVAL": "1",
                "MCP_CONSOLE_DEPLOY__BACKOFF_BASE": "0.2",
                "MCP_CONSOLE_DEPLOY__STOP_TIMEOUT": "2",
            },
        )


@pytest.fixture
def daemon(tmp_path: Path, docker_scope: str) -> Iterator[Daemon]:
    running = Daemon(tmp_path / "data", docker_scope)
    yield running
    running.stop()


def _backend(data_dir: Path) -> Runtime:
    """A short-lived backend on the daemon's database (it records, it does not reconcile)."""
    return Runtime(Settings(data_dir=data_dir))


async def _settled(client: RemoteClient, name: str, daemon: Daemon) -> DeploymentDetail:
    detail = await client.get_deployment(name)
    with anyio.move_on_after(SETTLE_TIMEOUT):
        while not all_healthy(detail):
            await anyio.sleep(0.2)
            detail = await client.get_deployment(name)
    # On a miss, say what the deployment and the daemon were doing.
    assert all_healthy(detail), (
        f"{name} did not settle: {detail.model_dump_json(indent=1)}\n{daemon.log_tail()}"
    )
    return detail


async def test_a_backend_killed_mid_deploy_converges_on_restart_and_leaves_no_orphan(
    daemon: Daemon,
    tmp_path: Path,
    docker_client: docker.DockerClient,
    docker_scope: str,
    example_image: str,
) -> None:
    data_dir = tmp_path / "data"
    async with _backend(data_dir) as runtime:
        await publish(runtime, "svc", image_version(example_image, "1.0.0"))
    # Shared: every container is a replica (no instance kept warm for sessions), so the
    # containers counted are the reconciler's alone.
    new = DeploymentCreate(
        service="svc", name="keep", replicas=3, runtime=RuntimeChoice.DOCKER, session_mode="shared"
    )
    async with await daemon.start() as client:
        await client.create_deployment(new.model_copy(update={"name": "gone", "replicas": 1}))
        await _settled(client, "gone", daemon)
        await client.create_deployment(new)
        with anyio.fail_after(SETTLE_TIMEOUT):
            while len(await in_thread(scope_containers, docker_client, docker_scope)) < 2:
                await asyncio.sleep(0.02)
        daemon.kill()  # at least one container of "keep" exists; it is not done yet
    # While it is down: "gone" is deleted (recorded only), and a stray labelled container
    # appears that belongs to no deployment at all.
    async with _backend(data_dir) as runtime:
        admin = runtime.local_admin
        assert admin is not None
        mid_deploy = await runtime.deployments.get(admin, "keep")
        await runtime.deployments.delete(admin, "gone")
    stray = DockerManager(scope_labels={SCOPE_LABEL: docker_scope})
    try:
        await stray.start(
            InstanceSpec(
                deployment_id="ghost-" + docker_scope,
                instance_id="i0",
                version="1",
                transport="stdio",
                image=example_image,
            )
        )
    finally:
        await stray.close()

    async with await daemon.start() as client:
        keep = await _settled(client, "keep", daemon)
        with pytest.raises(NotFound):
            await client.get_deployment("gone")
        with anyio.fail_after(SETTLE_TIMEOUT):
            while (
                len(containers := await in_thread(scope_containers, docker_client, docker_scope))
                != 3
            ):
                await asyncio.sleep(0.1)

    assert mid_deploy.ready_replicas < 3  # it really was killed in the middle
    assert {c.labels[LABEL_INSTANCE] for c in containers} == {i.name for i in keep.instances}
    assert len({c.labels[LABEL_DEPLOYMENT] for c in containers}) == 1
    assert all(c.status == "running" for c in containers)
    assert keep.status == "RUNNING"
