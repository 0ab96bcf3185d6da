"""Deployments as local processes: the example server and mcp-server-time from PyPI."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import anyio
import pytest

from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import VersionCreate
from mcp_console.schemas.deploy import DeploymentCreate, InstanceStatus, RuntimeChoice
from mcp_console.schemas.errors import NotFound

from ..catalogs import (
    all_healthy,
    call,
    healthy,
    pid_of_instance,
    process_version,
    publish,
    shell_version,
    time_version,
    wait_for,
)

CASES: dict[str, tuple[VersionCreate, str, dict[str, Any], Any]] = {
    "example-stdio": (process_version("1.0.0"), "add", {"a": 20, "b": 22}, {"result": 42}),
    "example-http": (process_version("1.0.0", http=True), "add", {"a": 1, "b": 2}, {"result": 3}),
    "time-from-pypi": (time_version(), "get_current_time", {"timezone": "UTC"}, None),
}


def deployment(name: str = "svc", **fields: Any) -> DeploymentCreate:
    return DeploymentCreate.model_validate(
        {"service": "svc", "name": name, "runtime": RuntimeChoice.PROCESS, **fields}
    )


@pytest.mark.parametrize("case", CASES)
async def test_deploys_become_healthy_and_answer_tools_call_at_the_instance(
    live: Runtime, case: str
) -> None:
    version, tool, arguments, expected = CASES[case]
    admin = await publish(live, "svc", version)

    await live.deployments.create(admin, deployment(replicas=2))
    detail = await wait_for(live, admin, "svc", all_healthy)

    assert detail.driver == "process"
    assert all(healthy(i) and i.last_health_check is not None for i in detail.instances)
    for instance in detail.instances:
        result = await call(live, instance, tool, arguments)
        assert not result.is_error, result
        if expected is not None:
            assert result.structured_content == expected
        else:
            assert "UTC" in str(result.content[0])
    if case == "example-http":
        assert all(i.url and i.url.startswith("http://127.0.0.1:") for i in detail.instances)


async def test_a_killed_process_is_restarted_and_the_history_says_why(live: Runtime) -> None:
    admin = await publish(live, "svc", process_version("1.0.0"))
    await live.deployments.create(admin, deployment())
    [before] = (await wait_for(live, admin, "svc", all_healthy)).instances

    os.kill(pid_of_instance(before.name), signal.SIGKILL)
    detail = await wait_for(
        live, admin, "svc", lambda d: all_healthy(d) and d.instances[0].last_error is not None
    )

    [after] = detail.instances
    assert after.name == before.name
    assert "exited with code 137" in (after.last_error or "")
    assert (await call(live, after, "whoami", {})).structured_content == {"result": after.name}
    restart = next(e for e in await live.deployments.history(admin, "svc") if e.action == "restart")
    assert restart.automatic
    assert restart.actor == "controller"
    assert "137" in restart.reason


async def test_a_server_that_exits_at_start_crash_loops_and_the_deployment_fails(
    live: Runtime,
) -> None:
    admin = await publish(live, "svc", process_version("1.0.0", "--fail-at-start"))
    async with live.events.subscribe() as events:
        await live.deployments.create(admin, deployment())
        detail = await wait_for(live, admin, "svc", lambda d: d.status == "FAILED")
        seen = [events.get_nowait() for _ in range(events.qsize())]

    [instance] = detail.instances
    assert instance.status is InstanceStatus.FAILED
    assert "crash loop" in (instance.last_error or "")
    assert "exited with code 3" in (instance.last_error or "")
    assert any("--fail-at-start" in line for line in instance.stderr_tail)
    assert "crash loop" in (detail.status_reason or "")
    failed = [e for e in seen if e["type"] == "instance.failed"]
    assert failed
    assert "crash loop" in failed[0]["reason"]
    assert failed[0]["deployment"] == "svc"


async def test_a_running_deployment_whose_instance_crash_loops_is_degraded(
    live: Runtime, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    admin = await publish(
        live, "svc", shell_version("1.0.0", f"if [ -e {broken} ]; then exit 5; fi")
    )
    await live.deployments.create(admin, deployment(replicas=2))
    detail = await wait_for(live, admin, "svc", all_healthy)

    broken.touch()
    victim = detail.instances[0]
    os.kill(pid_of_instance(victim.name), signal.SIGKILL)
    detail = await wait_for(
        live,
        admin,
        "svc",
        # The instance is marked FAILED before the deployment's status is recomputed.
        lambda d: (
            d.status == "DEGRADED" and any(i.status is InstanceStatus.FAILED for i in d.instances)
        ),
    )

    assert detail.status == "DEGRADED"
    assert detail.ready_replicas == 1
    failed = next(i for i in detail.instances if i.name == victim.name)
    assert "crash loop" in (failed.last_error or "")
    assert "exited with code 5" in (failed.last_error or "")

    broken.unlink()
    await live.deployments.start(admin, "svc")  # retries the failed instance
    await wait_for(live, admin, "svc", all_healthy)


async def _gone(pid: int) -> None:
    with anyio.fail_after(10):
        while Path(f"/proc/{pid}").exists():
            await anyio.sleep(0.05)


async def test_scale_stop_start_and_delete_change_what_runs(live: Runtime) -> None:
    admin = await publish(live, "svc", process_version("1.0.0"))
    await live.deployments.create(admin, deployment())
    [first] = (await wait_for(live, admin, "svc", all_healthy)).instances

    await live.deployments.scale(admin, "svc", 3)
    three = await wait_for(live, admin, "svc", lambda d: all_healthy(d) and d.replicas == 3)
    await live.deployments.scale(admin, "svc", 1)
    one = await wait_for(live, admin, "svc", lambda d: all_healthy(d) and len(d.instances) == 1)
    pid = pid_of_instance(one.instances[0].name)
    await live.deployments.stop(admin, "svc")
    stopped = await wait_for(live, admin, "svc", lambda d: d.status == "STOPPED")
    await _gone(pid)
    await live.deployments.start(admin, "svc")
    again = await wait_for(live, admin, "svc", all_healthy)
    pid = pid_of_instance(again.instances[0].name)

    await live.deployments.delete(admin, "svc")

    assert len({i.name for i in three.instances}) == 3
    assert stopped.instances == []
    assert stopped.replicas == 1
    assert first.name != again.instances[0].name
    await _gone(pid)
    with pytest.raises(NotFound):
        await live.deployments.get(admin, "svc")
    assert await live.drivers.process.list_managed() == []
