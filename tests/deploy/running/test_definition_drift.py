"""A server whose tool description changes on restart: recorded when first healthy, found
with its diff after the restart, alerted on (ToolDefinitionDrift), and in block mode hidden
from MCP clients and refused to them until an operator approves it."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Literal

import anyio
import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client

from mcp_console.backend.gateway.exchange import TOOL_HELD
from mcp_console.backend.monitor.alert_engine import AlertEngine
from mcp_console.backend.runtime import Runtime
from mcp_console.devtools.example_server import DRIFTED_ECHO
from mcp_console.schemas.alerts import AlertState
from mcp_console.schemas.audit import AuditQuery
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.schemas.drift import (
    DefinitionChange,
    DefinitionKind,
    DriftApproval,
    DriftPolicy,
    DriftReport,
)
from mcp_console.settings import MonitorSettings, Settings
from tests.deploy.catalogs import all_healthy, pid_of_instance, process_version, publish, wait_for
from tests.deploy.running.conftest import fast_deploy_settings
from tests.deploy.running.test_alert_on_crash_loop import Clock

SETTLE_S = 60.0
Mode = Literal["auto", "legacy"]
# Both eras (the handshake era's replies come as SSE from an HTTP server).
MODES: tuple[Mode, ...] = ("auto", "legacy")
# What the example server lists: five tools, one prompt, one resource template.
DEFINITIONS = 7


@pytest.fixture
def live_settings(tmp_path: Path, database_url: str, scope: str) -> Settings:
    """Local processes; checks come from instances turning healthy (the periodic one and
    the scheduled alert evaluation are out of the way: the test evaluates itself)."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        gateway_port=0,
        runtime="process",
        deploy=fast_deploy_settings(scope, crash_loop_restarts=1000, backoff_max=0.5),
        monitor=MonitorSettings(alert_interval=600, drift_interval=timedelta(hours=1)),
    )


async def report_when(
    live: Runtime, ready: Callable[[DriftReport], bool], timeout: float = SETTLE_S
) -> DriftReport:
    """Poll the drift report of ``svc`` until ``ready`` holds."""
    admin = live.local_admin
    assert admin is not None
    report = await live.drift.report(admin, "svc")
    with anyio.fail_after(timeout):
        while not ready(report):
            await anyio.sleep(0.2)
            report = await live.drift.report(admin, "svc")
    return report


async def deploy_and_change(
    live: Runtime, flag: Path, *, http: bool, policy: DriftPolicy
) -> DriftReport:
    """Deploy the example server, wait for its baseline, then restart it with echo's
    description changed; returns the report once the change is found."""
    admin = await publish(
        live, "svc", process_version("1.0.0", "--drift-flag", str(flag), http=http)
    )
    await live.deployments.create(
        admin,
        DeploymentCreate(service="svc", name="svc", runtime=RuntimeChoice.PROCESS, drift=policy),
    )
    detail = await wait_for(live, admin, "svc", all_healthy)
    first = await report_when(live, lambda r: r.baseline_at is not None)
    assert first.definitions == DEFINITIONS
    assert first.findings == []
    assert first.policy is policy

    flag.touch()
    os.kill(pid_of_instance(detail.instances[0].name), signal.SIGKILL)
    return await report_when(live, lambda r: bool(r.findings))


@asynccontextmanager
async def gateway_client(live: Runtime, key: str, mode: Mode) -> AsyncIterator[Client]:
    """An MCP client of ``svc``'s gateway endpoint (no cached listings)."""
    admin = live.local_admin
    assert admin is not None
    endpoint = (await live.deployments.get(admin, "svc")).endpoint_url
    assert endpoint is not None
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=SETTLE_S) as http,
        Client(streamable_http_client(endpoint, http_client=http), mode=mode, cache=None) as c,
    ):
        yield c


async def test_changed_description_is_found_with_its_diff_and_alerts(
    live: Runtime, tmp_path: Path
) -> None:
    admin = live.local_admin
    assert admin is not None
    for other in ("FrequentRestarts", "InstanceDown", "CrashLoop"):
        await live.alert_rules.set_enabled(admin, other, False)
    report = await deploy_and_change(live, tmp_path / "drift", http=False, policy=DriftPolicy.ALERT)

    [finding] = report.findings
    assert (finding.kind, finding.name, finding.change) == (
        DefinitionKind.TOOL,
        "echo",
        DefinitionChange.CHANGED,
    )
    assert finding.old_definition is not None
    assert finding.new_definition is not None
    assert finding.new_definition["description"] == DRIFTED_ECHO
    assert '-  "description": "Return the text unchanged.",' in finding.diff.splitlines()
    assert f'+  "description": "{DRIFTED_ECHO}",' in finding.diff.splitlines()
    assert finding.approved_at is None
    # Alert mode holds nothing back.
    assert report.blocked_tools == []

    clock = Clock()
    engine = AlertEngine(
        live.engine,
        live.sessions,
        live.notifications,
        MonitorSettings(alert_interval=1.0),
        clock,
    )
    await engine.evaluate()
    [alert] = [a for a in await live.alerts.alerts(admin) if a.rule == "ToolDefinitionDrift"]
    assert alert.state is AlertState.FIRING
    assert alert.labels["deployment"] == "admin/svc"
    assert alert.value == 1
    assert "admin/svc" in alert.summary

    # Approved: the listed definition is the baseline, and the alert resolves.
    approved = await live.drift.approve(admin, "svc", DriftApproval(all=True))
    assert [f.approved_by for f in approved.findings] == [admin.name]
    assert await live.drift.check(approved_deployment_id(live)) == []
    await engine.evaluate()  # clear from now: it resolves once that has lasted
    clock.skipped += timedelta(seconds=3)
    await engine.evaluate()
    assert not [a for a in await live.alerts.alerts(admin) if a.rule == "ToolDefinitionDrift"]


def approved_deployment_id(live: Runtime) -> int:
    """The id of ``svc``'s route in the gateway."""
    assert live.gateway is not None
    [route] = live.gateway.gateway.routes.routes()
    return route.deployment_id


@pytest.mark.parametrize("http", [False, True], ids=["stdio", "http"])
async def test_block_mode_hides_the_changed_tool_until_approved(
    live: Runtime, tmp_path: Path, http: bool
) -> None:
    admin = live.local_admin
    assert admin is not None
    report = await deploy_and_change(live, tmp_path / "drift", http=http, policy=DriftPolicy.BLOCK)
    assert [f.name for f in report.findings] == ["echo"]
    assert report.blocked_tools == ["echo"]
    key = await live.users.create_key(admin, admin.name, label="agent")

    for mode in MODES:
        async with gateway_client(live, key, mode) as client:
            listed = {t.name for t in (await client.list_tools()).tools}
            assert listed == {"add", "counter", "whoami", "sleep"}, mode
            with pytest.raises(MCPError) as refused:
                await client.call_tool("echo", {"text": "hi"})
            assert refused.value.code == TOOL_HELD
            assert "held back" in refused.value.message
            assert (await client.call_tool("add", {"a": 1, "b": 2})).structured_content == {
                "result": 3
            }

    # A refused approval names what waits.
    with pytest.raises(Exception, match="waiting: echo"):
        await live.drift.approve(admin, "svc", DriftApproval(names=["add"]))

    approved = await live.drift.approve(admin, "svc", DriftApproval(names=["echo"]))
    assert approved.blocked_tools == []
    [audited] = await live.audit.events(admin, AuditQuery(kind="deployment.drift.approved"))
    assert (audited.actor, audited.deployment, audited.detail["definitions"]) == (
        admin.name,
        "svc",
        ["tool echo"],
    )
    for mode in MODES:
        async with gateway_client(live, key, mode) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert tools["echo"].description == DRIFTED_ECHO
            result = await client.call_tool("echo", {"text": "hi"})
            assert result.structured_content == {"result": "hi"}
