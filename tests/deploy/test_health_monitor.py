"""HealthMonitor: probes stop when the controller stops them, whatever the probe does."""

from __future__ import annotations

import asyncio

from mcp_console.backend.deploy.health import HealthMonitor
from mcp_console.backend.ports import ProbeResult
from mcp_console.schemas.deploy import HealthState
from mcp_console.settings import DeploySettings


async def test_a_probe_that_swallows_its_cancellation_still_stops() -> None:
    # As the SDK can when a task is cancelled just as its own deadline passes: the
    # cancellation surfaces as a failed probe. The monitor must stop all the same.
    probing = asyncio.Event()
    probes = 0

    async def prober(ref: str) -> ProbeResult:
        nonlocal probes
        probes += 1
        probing.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            return ProbeResult(ok=False, error="TimeoutError")
        return ProbeResult(ok=True)

    async def reporter(
        ref: str, result: ProbeResult, state: HealthState, changed: bool, counted: bool
    ) -> None:
        return None

    monitor = HealthMonitor(DeploySettings(health_interval=0.01), prober, reporter)
    monitor.watch("instance-a")
    await asyncio.wait_for(probing.wait(), 5)
    task = next(t for t in asyncio.all_tasks() if t.get_name() == "health instance-a")
    await asyncio.wait_for(monitor.close(), 10)
    assert task.done()
    assert task.cancelled()
    assert probes == 1  # no probe after the cancelled one
