"""Autoscaling from a load source the test drives; every decision is in the history."""

from __future__ import annotations

import asyncio
import time

from mcp_console.backend.ports import LoadSample
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice

from ..catalogs import all_healthy, process_version, publish, wait_for


class DrivenLoad:
    """A load source reporting whatever the test says, as the gateway will report real load."""

    def __init__(self) -> None:
        self.inflight = 0.0

    def sample(self, deployment_id: int) -> LoadSample | None:
        return LoadSample(at=time.monotonic(), inflight=self.inflight, rps=0.0, healthy_instances=1)


async def test_load_scales_the_deployment_up_and_down_with_reasons_in_the_history(
    live: Runtime,
) -> None:
    load = DrivenLoad()
    admin = await publish(live, "svc", process_version("1.0.0"))
    policy = {
        "min_replicas": 1,
        "max_replicas": 3,
        "target_inflight": 2,
        "scale_up_cooldown_s": 0,
        "scale_down_cooldown_s": 0,
    }
    await live.deployments.create(
        admin,
        DeploymentCreate(
            service="svc", name="svc", runtime=RuntimeChoice.PROCESS, autoscale=policy
        ),
    )
    await wait_for(live, admin, "svc", all_healthy)

    load.inflight = 5.0  # 5 in flight at a target of 2 each: 3 instances
    changes = [await live.controller.autoscale(load) for _ in range(2)]
    up = await wait_for(live, admin, "svc", lambda d: d.replicas == 3 and all_healthy(d))
    load.inflight = 0.0
    await asyncio.sleep(live.settings.deploy.autoscale_window)  # the busy samples age out
    changes += [await live.controller.autoscale(load) for _ in range(2)]
    down = await wait_for(live, admin, "svc", lambda d: d.replicas == 1 and len(d.instances) == 1)

    # One sample is not enough to act on; two in a row are.
    assert changes == [0, 1, 0, 1]
    assert len(up.instances) == 3
    assert down.status == "RUNNING"
    scaled = [e for e in await live.deployments.history(admin, "svc") if e.action == "scale"]
    assert [e.changes["replicas"] for e in scaled] == [[3, 1], [1, 3]]
    assert all(e.automatic and e.actor == "autoscaler" for e in scaled)
    assert "in-flight" in scaled[1].reason
    assert "over target" in scaled[1].reason
    assert "under target" in scaled[0].reason


async def test_without_a_load_source_nothing_is_scaled(live: Runtime) -> None:
    admin = await publish(live, "svc", process_version("1.0.0"))
    policy = {"min_replicas": 1, "max_replicas": 3, "target_inflight": 2}
    await live.deployments.create(
        admin,
        DeploymentCreate(
            service="svc", name="svc", runtime=RuntimeChoice.PROCESS, autoscale=policy
        ),
    )

    assert await live.controller.autoscale() == 0
    assert (await live.deployments.get(admin, "svc")).replicas == 1
