"""The alert engine: pending → firing → resolved with hysteresis, repeats, acknowledgement,
silences, rules per deployment, and figures read from the metrics history."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection

from mcp_console.backend.gateway.records import RequestRecord
from mcp_console.backend.monitor.alert_engine import AlertEngine, Values, Wanted
from mcp_console.backend.monitor.alert_service import AlertService
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.alerts import (
    AlertState,
    AlertView,
    Comparison,
    RuleCreate,
    SilenceCreate,
    TargetCreate,
)
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.schemas.users import Principal
from mcp_console.settings import MonitorSettings
from tests.deploy.catalogs import process_version, publish
from tests.monitor.receiver import Receiver, receiving

INTERVAL_S = 10.0


class Clock:
    """A clock the test moves (the engine's and the alert service's)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Figures:
    """Figures the test sets: ``values[(metric, deployment_id)]``."""

    def __init__(self) -> None:
        self.names: dict[int, str] = {}
        self.values: dict[tuple[str, int], float] = {}

    async def __call__(
        self, conn: AsyncConnection, wanted: Wanted, now: datetime
    ) -> tuple[dict[int, str], Values]:
        out: Values = {key: {} for key in wanted}
        for (metric, deployment), value in self.values.items():
            for key in wanted:
                if key[0] == metric:
                    out[key][deployment] = value
        return dict(self.names), out


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as r:
        yield r


@pytest.fixture
def admin(runtime: Runtime) -> Principal:
    assert runtime.local_admin is not None
    return runtime.local_admin


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def figures() -> Figures:
    return Figures()


@pytest_asyncio.fixture
async def world(
    runtime: Runtime, admin: Principal, receiver: Receiver, figures: Figures
) -> dict[str, int]:
    """Two deployments (nothing runs), a webhook target, and the figures' deployments."""
    await publish(runtime, "svc", process_version("1.0.0"))
    ids = {}
    for name in ("one", "two"):
        new = DeploymentCreate(service="svc", name=name, replicas=0, runtime=RuntimeChoice.PROCESS)
        ids[name] = (await runtime.deployments.create(admin, new)).id
        figures.names[ids[name]] = f"admin/{name}"
    await runtime.notifications.add_target(admin, TargetCreate(name="hook", url=receiver.url))
    return ids


def engine_for(runtime: Runtime, clock: Clock, figures: Figures | None = None) -> AlertEngine:
    settings = MonitorSettings(alert_interval=INTERVAL_S, alert_repeat=timedelta(hours=1))
    return AlertEngine(
        runtime.engine, runtime.sessions, runtime.notifications, settings, clock, figures
    )


def told(receiver: Receiver) -> list[tuple[str, str, str]]:
    """(status, alertname, deployment) of every alert the webhook was told, in order."""
    out = []
    for request in receiver.requests:
        for alert in json.loads(request.body)["alerts"]:
            labels = alert["labels"]
            out.append((alert["status"], labels["alertname"], labels["deployment"]))
    return out


async def shown(runtime: Runtime, admin: Principal, rule: str) -> list[AlertView]:
    return [a for a in await runtime.alerts.alerts(admin, everything=True) if a.rule == rule]


async def test_an_alert_fires_after_holding_for_its_for_and_resolves_after_as_long_clear(
    runtime: Runtime,
    admin: Principal,
    world: dict[str, int],
    figures: Figures,
    clock: Clock,
    receiver: Receiver,
) -> None:
    engine = engine_for(runtime, clock, figures)  # HighErrorRate: > 5 % for 120 s
    one = world["one"]
    figures.values[("error_rate", one)] = 0.5
    await engine.evaluate()
    [pending] = await shown(runtime, admin, "HighErrorRate")
    assert pending.state is AlertState.PENDING
    clock.advance(60)
    figures.values[("error_rate", one)] = 0.01  # cleared before its time: forgotten
    await engine.evaluate()
    assert await shown(runtime, admin, "HighErrorRate") == []

    figures.values[("error_rate", one)] = 0.5
    await engine.evaluate()
    clock.advance(119)
    await engine.evaluate()
    assert told(receiver) == []
    clock.advance(1)
    result = await engine.evaluate()
    assert (result.firing, result.notices) == (1, 1)
    assert told(receiver) == [("firing", "HighErrorRate", "admin/one")]

    # Below the threshold, then above again before it has been clear for 120 s: no flapping.
    figures.values[("error_rate", one)] = 0.0
    await engine.evaluate()
    clock.advance(100)
    figures.values[("error_rate", one)] = 0.2
    await engine.evaluate()
    figures.values[("error_rate", one)] = 0.0
    await engine.evaluate()
    clock.advance(119)
    await engine.evaluate()
    assert told(receiver) == [("firing", "HighErrorRate", "admin/one")]
    clock.advance(1)
    await engine.evaluate()
    assert told(receiver)[-1] == ("resolved", "HighErrorRate", "admin/one")
    [resolved] = await shown(runtime, admin, "HighErrorRate")
    assert resolved.state is AlertState.RESOLVED
    assert resolved.resolved_at == clock.now


async def test_a_firing_alert_repeats_until_acknowledged(
    runtime: Runtime,
    admin: Principal,
    world: dict[str, int],
    figures: Figures,
    clock: Clock,
    receiver: Receiver,
) -> None:
    engine = engine_for(runtime, clock, figures)  # CrashLoop: fires at once
    figures.values[("crash_looping", world["two"])] = 1
    await engine.evaluate()
    clock.advance(1800)
    await engine.evaluate()
    assert len(told(receiver)) == 1
    clock.advance(1800)
    await engine.evaluate()
    assert told(receiver) == [("firing", "CrashLoop", "admin/two")] * 2
    [alert] = await shown(runtime, admin, "CrashLoop")
    acknowledged = await runtime.alerts.acknowledge(admin, alert.id)
    assert acknowledged.acknowledged_by == "admin"
    clock.advance(7200)
    await engine.evaluate()
    assert len(told(receiver)) == 2
    # Its resolution is still told.
    figures.values[("crash_looping", world["two"])] = 0
    await engine.evaluate()
    clock.advance(2 * INTERVAL_S)
    await engine.evaluate()
    assert told(receiver)[-1] == ("resolved", "CrashLoop", "admin/two")


async def test_a_silence_mutes_an_alert_that_is_told_once_the_silence_ends(
    runtime: Runtime,
    admin: Principal,
    world: dict[str, int],
    figures: Figures,
    clock: Clock,
    receiver: Receiver,
) -> None:
    engine = engine_for(runtime, clock, figures)
    alerts_now = AlertService(runtime.sessions, clock)  # the silence's end on the same clock
    silence = SilenceCreate(
        matchers={"alertname": "CrashLoop", "deployment": "admin/one"}, duration_s=600
    )
    await alerts_now.silence(admin, silence)
    figures.values[("crash_looping", world["one"])] = 1
    figures.values[("crash_looping", world["two"])] = 1
    await engine.evaluate()
    assert told(receiver) == [("firing", "CrashLoop", "admin/two")]
    alerts = {a.labels["deployment"]: a for a in await shown(runtime, admin, "CrashLoop")}
    assert alerts["admin/one"].silenced
    assert alerts["admin/one"].state is AlertState.FIRING
    assert not alerts["admin/two"].silenced
    clock.advance(601)
    await engine.evaluate()
    assert told(receiver)[-1] == ("firing", "CrashLoop", "admin/one")


async def test_rules_for_one_deployment_and_disabled_rules(
    runtime: Runtime,
    admin: Principal,
    world: dict[str, int],
    figures: Figures,
    clock: Clock,
    receiver: Receiver,
) -> None:
    engine = engine_for(runtime, clock, figures)
    rule = RuleCreate(
        name="Busy", metric="requests_per_s", op=Comparison.GE, threshold=10, deployment="one"
    )
    await runtime.alert_rules.add(admin, rule)
    figures.values[("requests_per_s", world["one"])] = 12
    figures.values[("requests_per_s", world["two"])] = 50
    await engine.evaluate()
    assert told(receiver) == [("firing", "Busy", "admin/one")]
    await runtime.alert_rules.set_enabled(admin, "Busy", False)
    await engine.evaluate()
    assert told(receiver)[-1] == ("resolved", "Busy", "admin/one")


async def test_an_evaluation_costs_the_same_statements_for_5_rules_or_200(
    runtime: Runtime, admin: Principal, world: dict[str, int], clock: Clock
) -> None:
    """The figures come in one query per window, for every deployment at once."""
    engine = engine_for(runtime, clock)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    await engine.evaluate()  # the built-ins: five rules
    # The audit trail of the world's making is written now, not by its flush during a count.
    await runtime.audit_recorder.flush()
    event.listen(runtime.engine.sync_engine, "before_cursor_execute", count)
    try:
        await engine.evaluate()
        few = len(statements)
        for n in range(195):
            new = RuleCreate(name=f"R{n}", metric="errors", threshold=n, window_s=300)
            await runtime.alert_rules.add(admin, new)
        await runtime.audit_recorder.flush()  # the audit trail of those additions, written now
        statements.clear()
        await engine.evaluate()
        many = len(statements)
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", count)
    assert many == few


async def test_error_rate_and_latency_come_from_the_metrics_history(
    runtime: Runtime, admin: Principal, world: dict[str, int], receiver: Receiver
) -> None:
    clock = Clock()
    engine = engine_for(runtime, clock)
    one = world["one"]
    now = time.time()
    for n in range(40):
        runtime.history.recorder.record(
            RequestRecord(
                deployment_id=one,
                instance_id="i-1",
                user_id=admin.user_id,
                method="tools/call",
                tool_name="slow",
                status=200,
                error=-32603 if n % 4 == 0 else False,  # a quarter fail
                latency_ms=3000.0,
                bytes_in=10,
                bytes_out=10,
                at=now - 30,
            )
        )
    await runtime.history.flush(sample=False)
    for name, metric, threshold in (("Failing", "error_rate", 0.2), ("Slow", "p95_ms", 2500)):
        await runtime.alert_rules.add(
            admin, RuleCreate(name=name, metric=metric, threshold=threshold, window_s=300)
        )
    await engine.evaluate()
    fired = {a.rule: a for a in await runtime.alerts.alerts(admin)}
    assert fired["Failing"].value == pytest.approx(0.25)
    assert fired["Failing"].state is AlertState.FIRING
    assert fired["Slow"].state is AlertState.FIRING
    assert fired["Slow"].value is not None
    assert 2500 < fired["Slow"].value <= 5000
    assert ("firing", "Failing", "admin/one") in told(receiver)
