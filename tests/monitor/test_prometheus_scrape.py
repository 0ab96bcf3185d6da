"""A real Prometheus scrapes the daemon's /metrics and counts exactly the calls made."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest_asyncio

from mcp_console.backend.api import create_app
from mcp_console.backend.runtime import Runtime
from tests.api.live import serving
from tests.deploy.catalogs import all_healthy, pid_of_instance, wait_for
from tests.gateway.helpers import Caller, connect, result_of
from tests.monitor.prometheus_server import SETTLE_TIMEOUT, Prometheus, running_prometheus

# Fixtures: ``backend`` and ``database_url`` (SQLite only).
from tests.monitor.served import deployed, serving_backend, sqlite_only  # noqa: F401

CALLS = 7
SLEEPS = 2
SLEEP_SECONDS = 0.3  # longer than the 0.25 s bucket, so where each sleep lands is certain


@pytest_asyncio.fixture
async def prometheus(
    backend: Runtime, prometheus_binary: Path, tmp_path: Path
) -> AsyncIterator[Prometheus]:
    """Prometheus scraping the backend's API every second with the admin's key."""
    admin = backend.local_admin
    assert admin is not None
    token = await backend.users.create_key(admin, admin.name, label="prometheus")
    async with (
        serving(create_app(backend)) as api,
        running_prometheus(prometheus_binary, tmp_path / "prometheus", api.url, token) as server,
    ):
        yield server


async def test_prometheus_counts_exactly_the_tool_calls_made_through_the_gateway(
    backend: Runtime, prometheus: Prometheus
) -> None:
    admin = backend.local_admin
    assert admin is not None
    endpoint = await deployed(backend, "scraped")
    caller = Caller(admin, await backend.users.create_key(admin, admin.name, label="calls"))
    deployment = f'deployment="{admin.name}/scraped"'
    # A client of the handshake era holds a session (modern clients need none).
    async with connect(endpoint, caller, "legacy") as client:
        await client.list_tools()
        for i in range(CALLS):
            assert await result_of(client, "add", {"a": i, "b": 1}) == i + 1
        for _ in range(SLEEPS):
            await result_of(client, "sleep", {"seconds": SLEEP_SECONDS})
        sessions = f"mcp_console_gateway_sessions{{{deployment}}}"
        assert await prometheus.settled(sessions, lambda value: value == 1) == 1

    # Leaving ends the session.
    assert await prometheus.settled(sessions, lambda value: value == 0) == 0
    calls = f'sum(mcp_console_gateway_requests_total{{{deployment}, mcp_method_name="tools/call"}})'
    total = await prometheus.settled(calls, lambda value: value == CALLS + SLEEPS)
    assert total == CALLS + SLEEPS, await prometheus.target_health()

    adds = f'{deployment}, mcp_method_name="tools/call", gen_ai_tool_name="add", error_type=""'
    assert await prometheus.value(f"mcp_console_gateway_requests_total{{{adds}}}") == CALLS
    # The histogram counts each request once, as the counter does.
    assert await prometheus.value(f"mcp_server_operation_duration_seconds_count{{{adds}}}") == CALLS
    listed = f'{deployment}, mcp_method_name="tools/list"'
    assert await prometheus.value(f"sum(mcp_console_gateway_requests_total{{{listed}}})") == 1
    healthy = f'mcp_console_gateway_instances{{{deployment}, state="healthy"}}'
    assert await prometheus.value(healthy) == 1


async def test_latencies_are_recorded_in_seconds(backend: Runtime, prometheus: Prometheus) -> None:
    admin = backend.local_admin
    assert admin is not None
    endpoint = await deployed(backend, "sleepy")
    caller = Caller(admin, await backend.users.create_key(admin, admin.name, label="calls"))
    async with connect(endpoint, caller) as client:
        for _ in range(SLEEPS):
            await result_of(client, "sleep", {"seconds": SLEEP_SECONDS})

    sleeps = f'deployment="{admin.name}/sleepy", gen_ai_tool_name="sleep"'
    count = await prometheus.settled(
        f"mcp_server_operation_duration_seconds_count{{{sleeps}}}",
        lambda value: value == SLEEPS,
    )
    assert count == SLEEPS
    total = await prometheus.value(f"mcp_server_operation_duration_seconds_sum{{{sleeps}}}")
    assert total is not None
    # Seconds, not milliseconds: each call slept 0.3 s, so the sum is at least 0.6 and far
    # below the 600 that milliseconds would give.
    assert SLEEPS * SLEEP_SECONDS <= total < 60
    bucket = "mcp_server_operation_duration_seconds_bucket"
    assert await prometheus.value(f'{bucket}{{{sleeps}, le="0.25"}}') == 0
    assert await prometheus.value(f'{bucket}{{{sleeps}, le="+Inf"}}') == SLEEPS


async def restarts_recorded(runtime: Runtime, name: str) -> int:
    """The restarts in a deployment's history, once there is one and it is healthy again."""
    admin = runtime.local_admin
    assert admin is not None
    count = 0
    with anyio.fail_after(SETTLE_TIMEOUT):
        while count == 0:
            await anyio.sleep(0.2)
            history = await runtime.deployments.history(admin, name)
            count = sum(1 for event in history if event.action == "restart")
    await wait_for(runtime, admin, name, all_healthy)
    return count


async def test_an_instance_killed_and_restarted_shows_its_restart_and_resources(
    backend: Runtime, prometheus: Prometheus
) -> None:
    admin = backend.local_admin
    assert admin is not None
    await deployed(backend, "fragile")
    [instance] = (await backend.deployments.get(admin, "fragile")).instances
    deployment = f'deployment="{admin.name}/fragile"'
    restarts = f"mcp_console_deployment_restarts_total{{{deployment}}}"
    assert await prometheus.settled(restarts, lambda value: value == 0) == 0
    running = f'mcp_console_deployment_instances{{{deployment}, status="running"}}'
    # The replica, and any instance started for a session of its own (warm ones too).
    assert (await prometheus.value(running) or 0) >= 1
    ours = f'{deployment}, instance_id="{instance.name}"'
    assert await prometheus.value(f"mcp_console_instance_consecutive_restarts{{{ours}}}") == 0
    memory = await prometheus.value(f"mcp_console_instance_memory_bytes{{{ours}}}")
    assert memory is not None
    assert memory > 2**20  # a Python server holds megabytes, in bytes (not MiB)
    cpu = await prometheus.value(f"mcp_console_instance_cpu_percent{{{ours}}}")
    assert cpu is not None
    assert cpu >= 0

    os.kill(pid_of_instance(instance.name), signal.SIGKILL)
    count = await restarts_recorded(backend, "fragile")
    # Counted from the history: a restart still counts once the instance is healthy again
    # (when the controller's own count of restarts in a row goes back to 0).
    assert await prometheus.settled(restarts, lambda value: value == count) == count
