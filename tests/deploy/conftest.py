"""Fixtures for the deploy tests: locally built images, drivers, clean-up by label.

The engine itself comes from the shared ``docker_client`` fixture (skip, or fail when
MCP_CONSOLE_REQUIRE_DOCKER=1).
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import docker
import docker.errors
import pytest

from mcp_console.backend.deploy.drivers.docker import DockerManager
from mcp_console.backend.deploy.drivers.engine import Engine
from mcp_console.backend.deploy.drivers.process import ProcessManager
from mcp_console.backend.deploy.drivers.venvs import VenvCache
from mcp_console.backend.deploy.images import ImageBuilder
from mcp_console.settings import ImageSettings

from .helpers import RUN_ID, TEST_LABEL, TIME_SERVER, run_in_private_loop

REPO_ROOT = Path(__file__).resolve().parents[2]


def _remove_test_containers(client: docker.DockerClient) -> None:
    for container in client.containers.list(all=True, filters={"label": f"{TEST_LABEL}={RUN_ID}"}):
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True, v=True)


@pytest.fixture(scope="session")
def base_image(docker_client: docker.DockerClient) -> str:
    """The locally bootstrapped Python base image (built once, about 40 s)."""
    tag = ImageSettings().base_image
    try:
        docker_client.images.get(tag)
    except docker.errors.ImageNotFound:
        subprocess.run(["bash", str(REPO_ROOT / "scripts" / "images.sh")], check=True)
    return tag


@pytest.fixture(scope="session")
def example_image(base_image: str) -> str:
    """Our example MCP server's image, built on the base image (cached by content hash)."""

    async def build() -> str:
        engine = Engine()
        try:
            builder = ImageBuilder(ImageSettings(base_image=base_image), engine)
            built = await builder.ensure_example_image()
        finally:
            await engine.close()
        return built.tag

    return run_in_private_loop(build)


@pytest.fixture(scope="session")
def time_server_image(base_image: str) -> str:
    """mcp-server-time from PyPI as an image, built offline from wheels downloaded on the host."""

    async def build() -> str:
        engine = Engine()
        try:
            builder = ImageBuilder(ImageSettings(base_image=base_image), engine)
            built = await builder.ensure_package_image("mcp-server-time", TIME_SERVER)
        finally:
            await engine.close()
        return built.tag

    return run_in_private_loop(build)


@pytest.fixture(scope="session")
def deb_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of downloaded Debian packages for the session's image builds."""
    return tmp_path_factory.mktemp("debs")


@pytest.fixture
async def docker_manager(docker_client: docker.DockerClient) -> AsyncIterator[DockerManager]:
    """A DockerManager scoped to this test run's label; its containers are removed after."""
    manager = DockerManager(scope_labels={TEST_LABEL: RUN_ID})
    yield manager
    await manager.close()
    await asyncio.to_thread(_remove_test_containers, docker_client)


@pytest.fixture(scope="session")
def venv_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One venv cache for the session, so a package is installed once."""
    return tmp_path_factory.mktemp("venvs")


@pytest.fixture
async def process_manager(tmp_path: Path, venv_root: Path) -> AsyncIterator[ProcessManager]:
    """A ProcessManager whose processes are all stopped after the test."""
    manager = ProcessManager(tmp_path / "data", venvs=VenvCache(venv_root))
    yield manager
    await manager.close()
