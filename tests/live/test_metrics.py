"""Live figures: calls through the gateway show up per second, per instance, on the list."""

from __future__ import annotations

import pytest

from mcp_console.backend.runtime import Runtime
from mcp_console.client.local import LocalClient
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.schemas.errors import NotFound
from tests.deploy.catalogs import image_version, process_version, publish
from tests.gateway.helpers import connect, result_of

from .helpers import SERVICE, Deployed, deploy_example, unknown_method, user

CALLS = 6
FAILURES = 2


async def test_calls_and_errors_through_the_gateway_show_in_the_figures(
    backend: Runtime, deployed: Deployed
) -> None:
    async with connect(deployed.endpoint, deployed.owner) as client:
        for i in range(CALLS):
            assert await result_of(client, "add", {"a": i, "b": 1}) == i + 1
    for _ in range(FAILURES):
        assert await unknown_method(deployed.endpoint, deployed.owner) == 404

    metrics = await backend.live_figures.deployment_metrics(deployed.owner.principal, "calc")

    assert metrics.deployment == "calc"
    assert metrics.window_s == 60
    assert len(metrics.points) == 60
    assert metrics.points == sorted(metrics.points, key=lambda p: p.at)
    requests = sum(p.requests for p in metrics.points)
    # Each client call is a server/discover or tools/call (and perhaps a tools/list).
    assert requests >= CALLS + FAILURES + 1
    assert sum(p.errors for p in metrics.points) == FAILURES
    assert metrics.error_rate == pytest.approx(FAILURES / requests)
    assert metrics.requests_per_s > 0
    assert metrics.p50_ms is not None
    assert metrics.p95_ms is not None
    assert metrics.p50_ms <= metrics.p95_ms
    assert metrics.in_flight == 0

    (instance,) = metrics.instances
    assert instance.instance == deployed.detail.instances[0].name
    assert instance.requests_per_s > 0
    assert instance.error_rate == pytest.approx(FAILURES / requests)
    # A Python server process: resident memory in the tens of MiB, CPU measured.
    assert instance.memory_mb is not None
    assert 5 < instance.memory_mb < 1024
    assert instance.cpu_percent is not None
    assert 0 <= instance.cpu_percent <= 200

    # The deployments list and the detail carry the same last minute (clients fill them).
    console = LocalClient(backend, deployed.owner.principal)
    (row,) = await console.list_deployments()
    detail = await console.get_deployment("calc")
    for view in (row, detail):
        assert view.requests_per_s is not None
        assert view.requests_per_s > 0
        assert view.error_rate == pytest.approx(FAILURES / requests, rel=0.5)


async def test_another_user_sees_no_figures_and_an_admin_sees_them_by_owner(
    backend: Runtime, deployed: Deployed
) -> None:
    with pytest.raises(NotFound):
        await backend.live_figures.deployment_metrics(deployed.stranger.principal, "calc")
    admin = backend.local_admin
    assert admin is not None
    figures = await backend.live_figures.deployment_metrics(admin, "alice/calc")
    assert figures.deployment == "alice/calc"
    assert [i.instance for i in figures.instances] == [deployed.detail.instances[0].name]


async def test_without_a_gateway_the_figures_are_empty(runtime: Runtime) -> None:
    """A short-lived backend (a CLI command) serves nothing: empty figures, no error."""
    await publish(runtime, SERVICE, process_version("1.0.0"))
    owner = await user(runtime, "alice")
    await runtime.deployments.create(
        owner.principal,
        DeploymentCreate(service=SERVICE, name="calc", runtime=RuntimeChoice.PROCESS),
    )

    metrics = await runtime.live_figures.deployment_metrics(owner.principal, "calc")
    assert (metrics.requests_per_s, metrics.points, metrics.instances) == (0.0, [], [])
    (row,) = await LocalClient(runtime, owner.principal).list_deployments()
    assert (row.requests_per_s, row.error_rate) == (None, None)
    with pytest.raises(NotFound):
        await runtime.live_figures.deployment_metrics(owner.principal, "nope")


async def test_a_container_reports_its_cpu_and_memory(
    docker_backend: Runtime, example_image: str
) -> None:
    version = image_version(example_image, "1.0.0", http=True)
    deployed = await deploy_example(docker_backend, version, RuntimeChoice.DOCKER)
    assert deployed.detail.driver == "docker"
    async with connect(deployed.endpoint, deployed.owner) as client:
        for i in range(CALLS):
            assert await result_of(client, "add", {"a": i, "b": 2}) == i + 2

    metrics = await docker_backend.live_figures.deployment_metrics(deployed.owner.principal, "calc")

    (instance,) = metrics.instances
    assert instance.requests_per_s > 0
    assert instance.error_rate == 0
    assert instance.memory_mb is not None
    assert 5 < instance.memory_mb < 1024
    assert instance.cpu_percent is not None
    assert 0 <= instance.cpu_percent <= 200
    # The next reading compares with this one: still a figure, never a gap.
    again = await docker_backend.live_figures.deployment_metrics(deployed.owner.principal, "calc")
    assert again.instances[0].cpu_percent is not None
