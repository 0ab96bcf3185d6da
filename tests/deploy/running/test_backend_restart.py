"""kill -9 of the daemon in the middle of a deploy: on restart everything converges, and the
labels on the engine show that no orphan container is left."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import docker
import pytest

from mcp_console.backend.daemon import DaemonFiles, read_info, read_token
from mcp_console.backend.deploy.driver_registry import SCOPE_LABEL
from mcp_console.backend.deploy.drivers.base import LABEL_DEPLOYMENT, LABEL_INSTANCE, InstanceSpec
from mcp_console.backend.deploy.drivers.docker import DockerManager
from mcp_console.backend.runtime import Runtime
from mcp_console.client.remote import RemoteClient
from mcp_console.schemas.deploy import DeploymentCreate, DeploymentDetail, RuntimeChoice
from mcp_console.schemas.errors import NotFound, Unavailable
from mcp_console.settings import Settings

from ..catalogs import SETTLE_TIMEOUT, all_healthy, image_version, publish
from .conftest import in_thread, scope_containers

START_TIMEOUT = 60.0


class Daemon:
    """``mcp-console daemon`` as a real process on one data dir."""

    def __init__(self, data_dir: Path, scope: str) -> None:
        self.files = DaemonFiles(data_dir)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("MCP_CONSOLE_")},
            "MCP_CONSOLE_DATA_DIR": str(data_dir),
            "MCP_CONSOLE_API_PORT": "0",
            "MCP_CONSOLE_GATEWAY_PORT": "0",
            "MCP_CONSOLE_RUNTIME": "docker",
            "MCP_CONSOLE_DEPLOY__SCOPE": scope,
            "MCP_CONSOLE_DEPLOY__HEALTH_INTERVAL": "1",
            "MCP_CONSOLE_DEPLOY__BACKOFF_BASE": "0.2",
            "MCP_CONSOLE_DEPLOY__STOP_TIMEOUT": "2",
        }
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> RemoteClient:
        log = (self.files.data_dir / "daemon-test.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mcp_console", "daemon"],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        with anyio.fail_after(START_TIMEOUT):
            while True:
                assert self.process.poll() is None, "the daemon exited while starting"
                info = read_info(self.files)
                if info is not None and info.pid == self.process.pid:
                    client = RemoteClient(info.url, read_token(self.files))
                    try:
                        await client.health()
                        return client
                    except Unavailable:
                        await client.aclose()
                await anyio.sleep(0.1)

    def log_tail(self, lines: int = 80) -> str:
        """The end of the daemon's output, for failure messages."""
        log = self.files.data_dir / "daemon-test.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no clean-up of any kind
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


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
