"""The starter catalog as a newcomer deploys it: each of its servers healthy on each runtime."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import docker
import pytest

from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.deploy import DeploymentCreate, DeploymentDetail, RuntimeChoice
from mcp_console.settings import ImageSettings, Settings
from mcp_console.starter import starter_documents

from ..catalogs import all_healthy, call, wait_for
from .conftest import in_thread, scope_containers

STARTER = ("example", "git", "time")
# A first Docker deployment builds its images: wheels and Debian packages, then the build.
BUILD_AND_SETTLE = 240.0


@pytest.fixture
def live_settings(live_settings: Settings, deb_cache: Path) -> Settings:
    """The session's cache of Debian packages, so the starter's git is downloaded once."""
    return live_settings.model_copy(update={"images": ImageSettings(deb_cache=deb_cache)})


async def deploy_the_starter(runtime: Runtime, choice: RuntimeChoice) -> list[DeploymentDetail]:
    """Import the starter catalog, deploy each of its servers, wait until all are healthy."""
    admin = runtime.local_admin
    assert admin is not None
    report = await runtime.catalog.import_documents(admin, starter_documents())
    assert report.problems == []
    for name in STARTER:
        await runtime.deployments.create(
            admin, DeploymentCreate(service=name, name=name, runtime=choice)
        )
    return list(
        await asyncio.gather(
            *(wait_for(runtime, admin, n, all_healthy, BUILD_AND_SETTLE) for n in STARTER)
        )
    )


async def test_the_starter_servers_become_healthy_on_docker(
    live_docker: Runtime, docker_client: docker.DockerClient, docker_scope: str, base_image: str
) -> None:
    example, git, time = await deploy_the_starter(live_docker, RuntimeChoice.DOCKER)

    assert {d.driver for d in (example, git, time)} == {"docker"}
    containers = await in_thread(scope_containers, docker_client, docker_scope)
    images = {tag for c in containers for tag in c.image.tags}
    assert {"mcp-console/git:2026.10.19", "mcp-console/time:2026.10.19"} <= images
    assert any(tag.startswith("mcp-console/example-server:") for tag in images)
    # The replica and the warm session instance (a stdio server is per-session by default).
    git_containers = [c for c in containers if "mcp-console/git:2026.10.19" in c.image.tags]
    assert git_containers
    assert {c.labels["io.mcp-console.system-packages"] for c in git_containers} == {"git"}
    added = await call(live_docker, example.instances[0], "add", {"a": 20, "b": 22})
    assert added.structured_content == {"result": 42}
    now = await call(live_docker, time.instances[0], "get_current_time", {"timezone": "UTC"})
    assert not now.is_error, now


async def test_the_starter_servers_become_healthy_as_processes(
    live: Runtime, tmp_path: Path
) -> None:
    example, git, time = await deploy_the_starter(live, RuntimeChoice.PROCESS)

    assert {d.driver for d in (example, git, time)} == {"process"}
    repo = tmp_path / "repo"
    await asyncio.to_thread(
        subprocess.run, ["git", "init", "--quiet", "--initial-branch=main", str(repo)], check=True
    )
    status = await call(live, git.instances[0], "git_status", {"repo_path": str(repo)})
    assert not status.is_error, status
    assert "On branch main" in " ".join(getattr(c, "text", "") for c in status.content)
    added = await call(live, example.instances[0], "add", {"a": 20, "b": 22})
    assert added.structured_content == {"result": 42}
