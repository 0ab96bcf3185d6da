"""The warm pool of a per-session deployment: a session takes an instance already answering,
the pool refills behind it within the limit, and follows the deployment's version."""

from __future__ import annotations

from sqlalchemy import select

from mcp_console.backend.db.models import ServiceInstance, ServiceVersion
from mcp_console.backend.deploy.deployment_record import DEDICATED_PREFIX
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from tests.gateway.helpers import Caller, connect, result_of

from ..catalogs import all_healthy, process_version, publish
from ..catalogs import wait_for as wait_for_deployment
from .test_session_instances import eventually, gone, session_instances


async def warm_versions(runtime: Runtime) -> list[str]:
    """The versions of the session instances that answer (rows marked healthy), sorted."""
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(ServiceVersion.version)
            .join(ServiceInstance, ServiceInstance.version_id == ServiceVersion.id)
            .where(ServiceInstance.name.like(f"{DEDICATED_PREFIX}%"))
            .where(ServiceInstance.health == "HEALTHY")
        )
    return sorted(rows.scalars())


async def test_a_session_takes_a_warm_instance_and_the_pool_refills_within_the_limit(
    live: Runtime,
) -> None:
    admin = await publish(live, "svc", process_version("1.0.0"), process_version("1.1.0"))
    # Asked for nothing: a stdio server whose author said nothing gets an instance per session.
    await live.deployments.create(
        admin,
        DeploymentCreate(
            service="svc", version="1.0.0", name="own", runtime=RuntimeChoice.PROCESS, replicas=2
        ),
    )
    detail = await wait_for_deployment(live, admin, "own", all_healthy)
    assert detail.session_mode == "per-session"
    assert detail.endpoint_url is not None
    owner = Caller(admin, await live.users.create_key(admin, admin.name, label="pool"))
    process = live.drivers.process

    # Before any client comes, one instance is started and answering, waiting.
    await eventually(lambda: warm_versions(live), ["1.0.0"])
    [warm] = await session_instances(process)
    async with connect(detail.endpoint_url, owner, "legacy") as first:
        # The session runs on the instance that was already waiting for it.
        assert await result_of(first, "whoami") == warm
        # Another is started for the next session, while this one holds its own.
        await eventually(lambda: warm_versions(live), ["1.0.0", "1.0.0"])
        [spare] = await session_instances(process) - {warm}
        async with connect(detail.endpoint_url, owner, "legacy") as second:
            assert await result_of(second, "whoami") == spare
            # Two sessions hold the deployment's limit (its 2 replicas): nothing is warmed.
            assert await session_instances(process) == {warm, spare}

    # The sessions ended: their instances go, and the pool refills with one.
    await eventually(lambda: gone(process, {warm, spare}), True)
    await eventually(lambda: warm_versions(live), ["1.0.0"])

    # A new version: the waiting instance of the old one is replaced by one of the new.
    await live.deployments.update(admin, "own", "1.1.0")
    await wait_for_deployment(live, admin, "own", lambda d: d.version == "1.1.0" and all_healthy(d))
    await eventually(lambda: warm_versions(live), ["1.1.0"])

    # Scaled to no replicas: no session may start an instance, and none is kept waiting.
    await live.deployments.scale(admin, "own", 0)
    await eventually(lambda: warm_versions(live), [])
    assert await session_instances(process) == set()
