"""Fixtures for the live tests: a backend as the daemon runs it (controller and gateway)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import docker
import pytest
import pytest_asyncio

from mcp_console.backend.runtime import Runtime
from mcp_console.settings import Settings
from tests.deploy.conftest import base_image, example_image  # noqa: F401
from tests.deploy.running.conftest import fast_deploy_settings, remove_scope

from .helpers import Deployed, deploy_example


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """What the gateway knows is the same on either database: SQLite keeps these quick."""
    return sqlite_url


@pytest.fixture(autouse=True)
def _debug(request: pytest.FixtureRequest) -> None:
    """The backend shares the loop with these tests: slow callbacks are reported."""
    if pytest_asyncio.is_async_test(request.node):
        request.getfixturevalue("_debug_loop")


@pytest.fixture
def scope(docker_client: docker.DockerClient) -> Iterator[str]:
    """A console scope of this test's own; its containers are removed afterwards."""
    name = "test-" + uuid.uuid4().hex[:10]
    yield name
    remove_scope(docker_client, name)


@pytest_asyncio.fixture
async def backend(tmp_path: Path, sqlite_url: str) -> AsyncIterator[Runtime]:
    """A backend with its controller and gateway running (local processes only)."""
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=sqlite_url,
        gateway_port=0,
        runtime="process",
        deploy=fast_deploy_settings("live-" + tmp_path.name),
    )
    async with Runtime(settings, migrate=False, background=True) as runtime:
        yield runtime


@pytest_asyncio.fixture
async def docker_backend(tmp_path: Path, sqlite_url: str, scope: str) -> AsyncIterator[Runtime]:
    """A backend with its controller and gateway running, deploying on Docker."""
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=sqlite_url,
        gateway_port=0,
        runtime="docker",
        deploy=fast_deploy_settings(scope),
    )
    async with Runtime(settings, migrate=False, background=True) as runtime:
        yield runtime


@pytest_asyncio.fixture
async def deployed(backend: Runtime) -> Deployed:
    """The example server (stdio, a local process) deployed by alice and healthy."""
    return await deploy_example(backend)
