"""A deployment made through DeploymentService is served at its gateway endpoint, end to end."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import docker
import httpx
import pytest
import pytest_asyncio
from sqlalchemy import func, select

from mcp_console.backend.db.models import ServiceUsage
from mcp_console.backend.deploy.deployment_record import DEDICATED_PREFIX
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import VersionCreate
from mcp_console.schemas.deploy import DeploymentCreate, DeploymentDetail, RuntimeChoice
from mcp_console.schemas.users import Role, UserCreate
from mcp_console.settings import Settings
from tests.deploy.catalogs import (
    SETTLE_TIMEOUT,
    all_healthy,
    image_version,
    process_version,
    publish,
    wait_for,
)
from tests.deploy.running.conftest import fast_deploy_settings, remove_scope

from .helpers import Caller, connect, result_of
from .test_auth import ADD, MODERN

CALLS = 3


@pytest.fixture
def scope(docker_client: docker.DockerClient) -> Iterator[str]:
    """A console scope of this test's own; its containers are removed afterwards."""
    name = "test-" + uuid.uuid4().hex[:10]
    yield name
    remove_scope(docker_client, name)


@pytest_asyncio.fixture
async def backend(tmp_path: Path, sqlite_url: str, scope: str) -> AsyncIterator[Runtime]:
    """A backend as the daemon runs it: controller, health checks and gateway, on a free port."""
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=sqlite_url,
        gateway_port=0,
        deploy=fast_deploy_settings(scope),
    )
    async with Runtime(settings, migrate=False, background=True) as runtime:
        yield runtime


async def deploy(
    runtime: Runtime, version: VersionCreate, kind: RuntimeChoice, replicas: int
) -> tuple[Caller, DeploymentDetail]:
    """Publish and deploy ``version``; returns the owner (with a key) once it is healthy."""
    admin = await publish(runtime, "svc", version)
    await runtime.deployments.create(
        admin, DeploymentCreate(service="svc", name="calc", runtime=kind, replicas=replicas)
    )
    detail = await wait_for(runtime, admin, "calc", all_healthy)
    key = await runtime.users.create_key(admin, admin.name, label="e2e")
    return Caller(admin, key), detail


async def usage_of(runtime: Runtime, deployment_id: int, expected: int) -> int:
    """The billable requests recorded for a deployment, once they reach ``expected``."""
    count = 0
    with anyio.move_on_after(SETTLE_TIMEOUT):
        while count != expected:
            async with runtime.sessions() as session:
                count = int(
                    await session.scalar(
                        select(func.coalesce(func.sum(ServiceUsage.request_count), 0)).where(
                            ServiceUsage.deployment_id == deployment_id
                        )
                    )
                    or 0
                )
            await anyio.sleep(0.2)
    return count


async def stranger_status(runtime: Runtime, endpoint: str) -> int:
    """The status a user the deployment is not shared with gets for a ``tools/call``."""
    created = await runtime.users.create_user(None, UserCreate(name="mallory", role=Role.USER))
    headers = dict(MODERN, authorization=f"Bearer {created.api_key}")
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(endpoint, json=ADD, headers=headers)
    return response.status_code


async def test_a_stdio_process_deployment_is_served_at_its_endpoint(backend: Runtime) -> None:
    owner, detail = await deploy(backend, process_version("1.0.0"), RuntimeChoice.PROCESS, 1)

    assert backend.gateway_url is not None
    assert detail.endpoint_url == f"{backend.gateway_url}/mcp/{owner.principal.name}/calc"
    served_by = []
    for mode in ("auto", "legacy"):
        async with connect(detail.endpoint_url, owner, mode) as client:
            for i in range(CALLS):
                assert await result_of(client, "add", {"a": i, "b": 40}) == i + 40
            served_by.append(await result_of(client, "whoami"))

    # A stdio server keeps its sessions' state: a handshake-era session has an instance of its
    # own; a 2026-07-28 client has no session to keep apart, and the replica serves it.
    assert detail.session_mode == "per-session"
    modern, legacy = served_by
    assert modern == detail.instances[0].name
    assert legacy.startswith(DEDICATED_PREFIX)

    assert await stranger_status(backend, detail.endpoint_url) == 403
    assert await usage_of(backend, detail.id, 2 * (CALLS + 1)) == 2 * (CALLS + 1)
    # The gateway owns the channel now; health checks pass through it and keep it green.
    probed = detail.instances[0].last_health_check
    after = await wait_for(
        backend,
        owner.principal,
        "calc",
        lambda d: all_healthy(d) and d.instances[0].last_health_check != probed,
    )
    assert after.instances[0].restart_count == 0


async def test_a_docker_http_deployment_balances_over_its_replicas(
    backend: Runtime, example_image: str
) -> None:
    version = image_version(example_image, "1.0.0", http=True)
    owner, detail = await deploy(backend, version, RuntimeChoice.DOCKER, 2)

    assert detail.driver == "docker"
    assert detail.endpoint_url == f"{backend.gateway_url}/mcp/{owner.principal.name}/calc"
    seen: set[str] = set()
    async with connect(detail.endpoint_url, owner, "auto") as client:
        for i in range(CALLS):
            assert await result_of(client, "add", {"a": i, "b": 1}) == i + 1
        for _ in range(4):
            seen.add(await result_of(client, "whoami"))
    async with connect(detail.endpoint_url, owner, "legacy") as client:
        for i in range(CALLS):
            assert await result_of(client, "add", {"a": i, "b": 2}) == i + 2

    assert seen == {i.name for i in detail.instances}
    assert await stranger_status(backend, detail.endpoint_url) == 403
    assert await usage_of(backend, detail.id, 2 * CALLS + 4) == 2 * CALLS + 4

    await backend.deployments.stop(owner.principal, "calc")
    await wait_for(backend, owner.principal, "calc", lambda d: not d.instances)
    async with httpx.AsyncClient(timeout=30) as http:
        stopped = await http.post(
            detail.endpoint_url, json=ADD, headers=dict(MODERN, **owner.headers)
        )
    assert stopped.status_code == 503
