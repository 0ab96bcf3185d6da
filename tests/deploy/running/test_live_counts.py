"""The gateway's live figures count the instances it may route to, for the autoscaler."""

from __future__ import annotations

from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from tests.gateway.helpers import Caller, connect, result_of

from ..catalogs import all_healthy, process_version, publish, wait_for


async def test_healthy_instances_follow_the_routes_not_the_traffic(live: Runtime) -> None:
    admin = await publish(live, "svc", process_version("1.0.0"))
    await live.deployments.create(
        admin,
        DeploymentCreate(service="svc", name="web", runtime=RuntimeChoice.PROCESS, replicas=3),
    )
    detail = await wait_for(live, admin, "web", all_healthy)
    assert detail.endpoint_url is not None
    assert live.gateway_load is not None
    owner = Caller(admin, await live.users.create_key(admin, admin.name, label="load"))

    # One handshake-era session: all its traffic goes to one of the three instances.
    async with connect(detail.endpoint_url, owner, "legacy") as client:
        served = {await result_of(client, "whoami") for _ in range(3)}
    three = live.gateway_load.sample(detail.id)

    await live.deployments.scale(admin, "web", 2)
    await wait_for(live, admin, "web", lambda d: all_healthy(d) and len(d.instances) == 2)
    two = live.gateway_load.sample(detail.id)
    await live.deployments.stop(admin, "web")
    await wait_for(live, admin, "web", lambda d: not d.instances)
    none = live.gateway_load.sample(detail.id)

    assert len(served) == 1
    assert three is not None
    assert three.healthy_instances == 3
    assert two is not None
    assert two.healthy_instances == 2
    assert none is not None
    assert none.healthy_instances == 0
