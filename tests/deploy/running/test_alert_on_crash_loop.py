"""A crash-looping deployment raises CrashLoop: it reaches a signed webhook, a real
Alertmanager and an apprise target, resolves after recovery, and a silence mutes it."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from mcp_console.backend.monitor.alert_engine import AlertEngine
from mcp_console.backend.monitor.notify_signing import verify
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.alerts import AlertState, SilenceCreate, TargetCreate
from mcp_console.schemas.deploy import (
    DeploymentCreate,
    DeploymentDetail,
    InstanceStatus,
    RuntimeChoice,
)
from mcp_console.settings import MonitorSettings, Settings
from tests.deploy.catalogs import all_healthy, pid_of_instance, publish, shell_version, wait_for
from tests.deploy.running.conftest import fast_deploy_settings
from tests.monitor.alertmanager import alertmanager
from tests.monitor.receiver import Receiver, receiving

SECRET = "crash-loop-webhook-secret"
INTERVAL_S = 1.0


class Clock:
    """The real time plus what the test skipped (the engine's hysteresis waits on it)."""

    def __init__(self) -> None:
        self.skipped = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.skipped


@pytest.fixture
def live_settings(tmp_path: Path, database_url: str, scope: str) -> Settings:
    """Restarts that go on (no giving up) so recovery comes by itself; no scheduled
    evaluation: the test evaluates, and counts."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        gateway_port=0,
        runtime="process",
        deploy=fast_deploy_settings(scope, crash_loop_restarts=1000, backoff_max=0.5),
        monitor=MonitorSettings(alert_interval=600),
    )


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as r:
        yield r


def looping(detail: DeploymentDetail) -> bool:
    return any(
        i.status is InstanceStatus.RESTARTING and i.restart_count >= 2 for i in detail.instances
    )


def crash_loop_notices(receiver: Receiver, path: str) -> list[dict[str, Any]]:
    """The CrashLoop alerts the receiver got at ``path``, in order (webhook JSON)."""
    found = []
    for request in receiver.requests:
        if request.path == path:
            for alert in json.loads(request.body)["alerts"]:
                if alert["labels"]["alertname"] == "CrashLoop":
                    found.append(alert)
    return found


async def crash_loops_at(http: httpx.AsyncClient, am: str) -> list[dict[str, Any]]:
    """The active CrashLoop alerts Alertmanager lists."""
    found = (await http.get(f"{am}/api/v2/alerts", params={"active": "true"})).json()
    return [a for a in found if a["labels"]["alertname"] == "CrashLoop"]


def apprise_titles(receiver: Receiver) -> list[str]:
    """The titles of apprise's CrashLoop notifications (restarts raise others too)."""
    titles = [json.loads(r.body)["title"] for r in receiver.requests if r.path == "/apprise"]
    return [t for t in titles if "CrashLoop" in t]


async def test_crash_loop_alert_notifies_resolves_and_is_silenced(
    live: Runtime, tmp_path: Path, receiver: Receiver
) -> None:
    clock = Clock()
    engine = AlertEngine(
        live.engine,
        live.sessions,
        live.notifications,
        MonitorSettings(alert_interval=INTERVAL_S),
        clock,
    )
    admin = live.local_admin
    assert admin is not None
    broken = tmp_path / "broken"
    broken.touch()
    with alertmanager(tmp_path) as am:
        for name, url, secret in (
            ("hook", f"{receiver.url}/hook", SECRET),
            ("am", am.replace("http://", "alertmanager://"), None),
            ("chat", f"json://127.0.0.1:{receiver.port}/apprise", None),
        ):
            await live.notifications.add_target(
                admin, TargetCreate(name=name, url=url, secret=secret)
            )
        # Restarts and missing replicas raise their own alerts: this test follows CrashLoop.
        for other in ("FrequentRestarts", "InstanceDown"):
            await live.alert_rules.set_enabled(admin, other, False)
        await publish(live, "svc", shell_version("1.0.0", f"if [ -e {broken} ]; then exit 5; fi"))
        await live.deployments.create(
            admin,
            DeploymentCreate(service="svc", name="svc", runtime=RuntimeChoice.PROCESS),
        )
        await wait_for(live, admin, "svc", looping)

        # The first evaluation that can see the crash loop fires it (CrashLoop waits for none).
        await engine.evaluate()
        [firing] = [a for a in await live.alerts.alerts(admin) if a.rule == "CrashLoop"]
        assert firing.state is AlertState.FIRING
        assert firing.labels["deployment"] == "admin/svc"
        [hooked] = crash_loop_notices(receiver, "/hook")
        assert hooked["status"] == "firing"
        signed = next(r for r in receiver.requests if r.path == "/hook")
        assert verify(SECRET, signed.headers, signed.body)
        assert apprise_titles(receiver) == ["[FIRING] CrashLoop"]
        async with httpx.AsyncClient() as http:
            listed = await crash_loops_at(http, am)
        assert [(a["labels"]["alertname"], a["labels"]["deployment"]) for a in listed] == [
            ("CrashLoop", "admin/svc")
        ]

        # Recovery: the next start works. It resolves once it has held for the hysteresis.
        broken.unlink()
        detail = await wait_for(live, admin, "svc", all_healthy)
        await engine.evaluate()
        assert [a.state for a in await live.alerts.alerts(admin) if a.rule == "CrashLoop"] == [
            AlertState.FIRING
        ]
        clock.skipped += timedelta(seconds=3 * INTERVAL_S)
        await engine.evaluate()
        assert not [a for a in await live.alerts.alerts(admin) if a.rule == "CrashLoop"]
        assert [a["status"] for a in crash_loop_notices(receiver, "/hook")] == [
            "firing",
            "resolved",
        ]
        assert apprise_titles(receiver) == ["[FIRING] CrashLoop", "[RESOLVED] CrashLoop"]
        async with httpx.AsyncClient() as http:
            listed = await crash_loops_at(http, am)
        assert listed == []

        # Silenced: it fires again, and nobody is told.
        await live.alerts.silence(
            admin, SilenceCreate(matchers={"alertname": "CrashLoop"}, duration_s=3600)
        )
        told = len(crash_loop_notices(receiver, "/hook")), len(apprise_titles(receiver))
        broken.touch()
        os.kill(pid_of_instance(detail.instances[0].name), signal.SIGKILL)
        await wait_for(live, admin, "svc", looping)
        await engine.evaluate()
        [again] = [a for a in await live.alerts.alerts(admin) if a.rule == "CrashLoop"]
        assert again.state is AlertState.FIRING
        assert again.silenced
        assert (len(crash_loop_notices(receiver, "/hook")), len(apprise_titles(receiver))) == told
        history = await live.alerts.alerts(admin, everything=True)
        assert [a.state for a in history if a.rule == "CrashLoop"] == [
            AlertState.FIRING,
            AlertState.RESOLVED,
        ]
