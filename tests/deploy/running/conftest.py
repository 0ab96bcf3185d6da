"""A backend whose controller runs, with short intervals; every container it made is removed.

These tests watch real processes and containers converge, so they run on SQLite (the
databases are covered by the service tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
import pytest_asyncio

from mcp_console.backend.deploy.driver_registry import SCOPE_LABEL
from mcp_console.backend.runtime import Runtime
from mcp_console.settings import DeploySettings, Settings
from tests.cli.commands import Cli, stop_daemon

# Long enough that the scheduled tick never hides what events and health checks do.
TICK_SECONDS = 60.0
HEALTH_INTERVAL = 1.0


def fast_deploy_settings(scope: str, **overrides: Any) -> DeploySettings:
    """Controller timing for tests: quick probes and restarts, a short rollout deadline."""
    values: dict[str, Any] = {
        "health_interval": HEALTH_INTERVAL,
        "health_timeout": 5.0,
        "start_grace": 30.0,
        "backoff_base": 0.2,
        "backoff_max": 2.0,
        "crash_loop_restarts": 3,
        "rollout_deadline": 40.0,
        "stop_timeout": 3.0,
        "reconcile_interval": TICK_SECONDS,
        "autoscale_interval": TICK_SECONDS,
        "autoscale_window": 1.0,
        "scope": scope,
    }
    values.update(overrides)
    return DeploySettings(**values)


def remove_scope(client: docker.DockerClient, scope: str) -> None:
    """Remove every container of one console scope."""
    for container in scope_containers(client, scope):
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True, v=True)


def scope_containers(client: docker.DockerClient, scope: str) -> list[Any]:
    """The containers of one console scope, running or not.

    The SDK lists, then inspects each container: one the controller removes in between
    raises NotFound, so list again (the race is real while a backend converges).
    """
    for _ in range(20):
        try:
            return list(
                client.containers.list(all=True, filters={"label": f"{SCOPE_LABEL}={scope}"})
            )
        except docker.errors.NotFound:
            continue
    raise AssertionError(f"containers of scope {scope} kept vanishing while being listed")


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Convergence is the same on either database: SQLite keeps these tests light."""
    return sqlite_url


@pytest.fixture
def scope() -> str:
    """A console scope of its own, so parallel tests never touch each other's containers."""
    return "test-" + uuid.uuid4().hex[:10]


@pytest.fixture
def live_settings(tmp_path: Path, database_url: str, scope: str) -> Settings:
    """Settings with the test timing (the default runtime picks Docker when it answers)."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        gateway_port=0,
        deploy=fast_deploy_settings(scope),
    )


@pytest_asyncio.fixture
async def live(live_settings: Settings) -> AsyncIterator[Runtime]:
    """A started backend with its controller running."""
    async with Runtime(live_settings, migrate=False, background=True) as runtime:
        yield runtime


@pytest.fixture
def docker_scope(docker_client: docker.DockerClient, scope: str) -> Iterator[str]:
    """This test's console scope on the engine; its containers are removed afterwards."""
    yield scope
    remove_scope(docker_client, scope)


async def in_thread(fn: Any, *args: Any) -> Any:
    """Run a blocking Docker SDK call off the loop."""
    return await asyncio.to_thread(fn, *args)


@pytest_asyncio.fixture
async def live_docker(docker_scope: str, live_settings: Settings) -> AsyncIterator[Runtime]:
    """A started backend on Docker; its containers are removed after it has stopped."""
    settings = live_settings.model_copy(update={"runtime": "docker"})
    async with Runtime(settings, migrate=False, background=True) as runtime:
        yield runtime


@pytest.fixture
def cli(tmp_path: Path, scope: str) -> Iterator[Cli]:
    """``mcp-console`` in subprocesses on this test's data dir; stops the daemon they start."""
    runner = Cli(tmp_path / "data", scope)
    yield runner
    # The daemon the commands started: stopped as 'daemon stop' does, whatever happened.
    stop_daemon(tmp_path / "data")
