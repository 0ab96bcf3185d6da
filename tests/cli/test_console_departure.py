"""What quitting a console hosting its own backend does to its containers: left running
unserved until the next start adopts them, or stopped for good; handed over to a daemon that
a command started meanwhile."""

from __future__ import annotations

from pathlib import Path

import anyio
import docker
import pytest

from mcp_console.backend.daemon import DaemonFiles, holder_of
from mcp_console.cli.departure import hand_over
from mcp_console.cli.tui import ConsoleBackend
from mcp_console.client.protocol import ConsoleClient
from mcp_console.schemas.catalog import ServiceCreate
from mcp_console.schemas.deploy import DeploymentCreate, DeploymentDetail, RuntimeChoice
from mcp_console.screens.modals.quit import QuitChoice, RunningWork
from mcp_console.settings import Settings
from tests.cli.commands import Cli, stop_daemon
from tests.deploy.catalogs import SETTLE_TIMEOUT, all_healthy, image_version
from tests.deploy.conftest import base_image, example_image  # noqa: F401
from tests.deploy.running.conftest import (  # noqa: F401
    docker_scope,
    fast_deploy_settings,
    scope,
    scope_containers,
)

SERVICE = "example"


@pytest.fixture(autouse=True)
def _debug(request: pytest.FixtureRequest) -> None:
    """The backend shares the loop with these tests: slow callbacks are reported."""
    request.getfixturevalue("_debug_loop")


async def _healthy(client: ConsoleClient, name: str) -> DeploymentDetail:
    detail = await client.get_deployment(name)
    with anyio.move_on_after(SETTLE_TIMEOUT):
        while not all_healthy(detail):
            await anyio.sleep(0.2)
            detail = await client.get_deployment(name)
    assert all_healthy(detail), detail
    return detail


def _running(client: docker.DockerClient, console_scope: str) -> list[str]:
    return [c.name for c in scope_containers(client, console_scope) if c.status == "running"]


async def test_leaving_keeps_the_container_unserved_until_the_next_console_adopts_it(
    tmp_path: Path,
    example_image: str,  # noqa: F811
    docker_scope: str,  # noqa: F811
    docker_client: docker.DockerClient,
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        api_port=0,
        gateway_port=0,
        runtime="docker",
        deploy=fast_deploy_settings(docker_scope),
    )
    said: list[str] = []
    first = ConsoleBackend(settings, said.append)
    first.start()
    try:
        client = await first.client.client()
        await client.register_service(ServiceCreate(name=SERVICE, description="the example"))
        await client.add_version(SERVICE, image_version(example_image, "1.0.0"))
        await client.publish_service(SERVICE)
        new = DeploymentCreate(service=SERVICE, name="calc", runtime=RuntimeChoice.DOCKER)
        await client.create_deployment(new)
        (instance,) = (await _healthy(client, "calc")).instances
        assert await first.running() == RunningWork(("calc",), containers=1)
    finally:
        await first.aclose(QuitChoice.LEAVE)
    assert said == [
        "left 1 deployment as it is: 1 container keeps running unreachable until the console "
        "or 'mcp-console daemon' starts again"
    ]
    assert holder_of(DaemonFiles(settings.data_dir)) is None
    assert _running(docker_client, docker_scope) == [instance.ref]

    said.clear()
    second = ConsoleBackend(settings, said.append)
    second.start()
    try:
        client = await second.client.client()
        (adopted,) = (await _healthy(client, "calc")).instances
        assert adopted.ref == instance.ref  # the same container, served again
    finally:
        await second.aclose(QuitChoice.STOP)
    assert said == [
        "stopping 1 deployment: calc",
        "stopped 1 deployment; it stays stopped until started again "
        "('mcp-console deploy start NAME')",
    ]
    assert _running(docker_client, docker_scope) == []


async def test_handing_over_to_a_daemon_a_command_started_meanwhile_says_so(
    tmp_path: Path,
) -> None:
    cli = Cli(tmp_path / "data", "test-hand-over")
    await anyio.to_thread.run_sync(cli, "daemon", "--detach")
    try:
        daemon = await anyio.to_thread.run_sync(cli.json, "daemon", "status")
        said: list[str] = []
        settings = Settings(data_dir=tmp_path / "data")
        await hand_over(settings, RunningWork(("calc",), processes=1), said.append)
    finally:
        await anyio.to_thread.run_sync(stop_daemon, tmp_path / "data")
    assert said == [
        "starting a background daemon for 1 deployment",
        f"1 deployment went to a daemon (pid {daemon['pid']}) at {daemon['url']}, started "
        "meanwhile by another command",
    ]
