"""What a deployment does before its server starts is told as it goes: a PyPI package installed
into its virtualenv on the process runtime is published step by step (the deploy wizard and
``deploy create --wait`` show it) and is the deployment's status reason meanwhile."""

from __future__ import annotations

from typing import Any

from mcp_console.backend.deploy.plan import Launch
from mcp_console.backend.deploy.prepare_steps import build_step, install_step
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.deploy import PREPARE_EVENT, DeploymentCreate, RuntimeChoice
from tests.deploy.running.test_pull_deploy import recording

from ..catalogs import TIME_PACKAGE, all_healthy, publish, time_version, wait_for

REQUIREMENT = f"{TIME_PACKAGE.identifier}=={TIME_PACKAGE.version}"


async def test_installing_a_package_is_told_before_the_server_starts(live: Runtime) -> None:
    # Every step is told, however quick (a warm cache installs in well under a second).
    live.controller.converger.steps.after = 0
    admin = await publish(live, "clock", time_version())
    # One instance, shared: one install to tell (a warm pool would start more).
    new = DeploymentCreate(
        service="clock", name="clock", runtime=RuntimeChoice.PROCESS, session_mode="shared"
    )
    async with recording(live) as seen:
        created = await live.deployments.create(admin, new)
        await wait_for(live, admin, "clock", all_healthy)

    steps: list[dict[str, Any]] = [e for e in seen if e["type"] == PREPARE_EVENT]
    started = next(i for i, e in enumerate(seen) if e["type"] == "instance.started")
    told = f"installing {REQUIREMENT} from PyPI into its virtualenv"
    assert [(e["reason"], e["done"]) for e in steps] == [(told, False), (f"{told}: done", True)]
    assert {e["deployment_id"] for e in steps} == {created.id}
    assert seen.index(steps[-1]) < started


def test_each_runtime_tells_the_step_it_takes() -> None:
    from mcp_console.backend.deploy.drivers.base import NpmPackage, PackageSource

    package = PackageSource("mcp-server-time", "2026.10.19")
    npm = NpmPackage("@acme/srv", "1.0.0")
    assert build_step(Launch("docker", "stdio", package=package)) == (
        "building the image of mcp-server-time==2026.10.19 (PyPI)"
    )
    assert build_step(Launch("docker", "stdio", npm=npm)) == (
        "building the image of @acme/srv@1.0.0 (npm)"
    )
    # A ready-made image is pulled (told as a pull), a process builds nothing.
    assert build_step(Launch("docker", "stdio", image="example:1")) is None
    assert build_step(Launch("process", "stdio", package=package)) is None
    installs = install_step(Launch("process", "stdio", npm=npm))
    assert installs == "installing @acme/srv@1.0.0 from npm"
    assert install_step(Launch("process", "stdio", command=("srv",))) is None
    assert install_step(Launch("docker", "stdio", npm=npm)) is None
