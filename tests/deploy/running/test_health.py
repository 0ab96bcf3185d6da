"""MCP health checks: a frozen server turns UNHEALTHY after three failed probes and is replaced."""

from __future__ import annotations

import contextlib
import os
import signal

import pytest

from mcp_console.backend.deploy.health import Hysteresis
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.deploy import DeploymentCreate, HealthState, RuntimeChoice
from mcp_console.settings import Settings

from ..catalogs import all_healthy, call, pid_of_instance, process_version, publish, wait_for
from .conftest import fast_deploy_settings


@pytest.fixture
def live_settings(live_settings: Settings, scope: str) -> Settings:
    """Probes give up after 1 s, so a frozen server is noticed quickly."""
    return live_settings.model_copy(
        update={"deploy": fast_deploy_settings(scope, health_timeout=1.0)}
    )


async def test_a_frozen_server_turns_unhealthy_and_is_replaced(live: Runtime) -> None:
    admin = await publish(live, "svc", process_version("1.0.0"))
    await live.deployments.create(
        admin, DeploymentCreate(service="svc", name="svc", runtime=RuntimeChoice.PROCESS)
    )
    [before] = (await wait_for(live, admin, "svc", all_healthy)).instances
    frozen = pid_of_instance(before.name)

    async with live.events.subscribe() as events:
        os.kill(frozen, signal.SIGSTOP)  # alive, but answers nothing
        try:
            detail = await wait_for(
                live,
                admin,
                "svc",
                lambda d: (
                    all_healthy(d)
                    and d.instances[0].restart_count == 0
                    and pid_of_instance(d.instances[0].name) != frozen
                ),
            )
        finally:
            with contextlib.suppress(ProcessLookupError):  # normally killed by the replacement
                os.kill(frozen, signal.SIGCONT)
        seen = [events.get_nowait() for _ in range(events.qsize())]

    [after] = detail.instances
    assert "unhealthy" in (after.last_error or "")
    assert "no MCP answer within 1 s" in (after.last_error or "")
    health = [e["health"] for e in seen if e["type"] == "instance.health"]
    assert health[:2] == ["UNHEALTHY", "HEALTHY"]
    assert (await call(live, after, "add", {"a": 2, "b": 2})).structured_content == {"result": 4}
    restart = next(e for e in await live.deployments.history(admin, "svc") if e.action == "restart")
    assert "unhealthy" in restart.reason


def test_hysteresis_needs_three_failures_and_two_successes_in_a_row() -> None:
    state = Hysteresis(healthy_after=2, unhealthy_after=3)
    flips = [state.record(ok) for ok in (True, True, False, False, True, False, False, False)]
    after_failures = state.state
    recovered = [state.record(True), state.record(True)]

    assert flips == [False, True, False, False, False, False, False, True]
    assert after_failures is HealthState.UNHEALTHY
    assert recovered == [False, True]
    assert state.state is HealthState.HEALTHY
