"""Sample alerts, a custom rule and notification targets for the TUI's tests and snapshots."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from mcp_console.schemas.alerts import (
    AlertState,
    AlertView,
    DeliveryState,
    DeliveryView,
    RuleCreate,
    Severity,
    TargetKind,
    TargetView,
)
from tests.fakes import FakeClient, rule_view
from tests.tui.sample import NOW
from tests.tui.sample_deployments import live_client


def alert(
    alert_id: int,
    rule: str,
    deployment: str,
    state: AlertState,
    *,
    severity: Severity = Severity.WARNING,
    minutes_ago: int = 10,
    value: float | None = 1.0,
    summary: str = "",
    acknowledged_by: str | None = None,
    silenced: bool = False,
) -> AlertView:
    """An alert as the backend lists it, started ``minutes_ago`` before the frozen clock."""
    started = NOW - timedelta(minutes=minutes_ago)
    return AlertView(
        id=alert_id,
        rule=rule,
        state=state,
        severity=severity,
        labels={"alertname": rule, "severity": severity.value, "deployment": deployment},
        value=value,
        summary=summary,
        started_at=started,
        fired_at=started + timedelta(minutes=1) if state is not AlertState.PENDING else None,
        resolved_at=started + timedelta(minutes=5) if state is AlertState.RESOLVED else None,
        acknowledged_by=acknowledged_by,
        silenced=silenced,
    )


def sample_alerts() -> list[AlertView]:
    """Two firing (one acknowledged), one pending, one resolved; newest first."""
    return [
        alert(
            4,
            "CrashLoop",
            "weather-eu",
            AlertState.FIRING,
            severity=Severity.CRITICAL,
            minutes_ago=3,
            summary="weather-eu-2 restarted 5 times in 5 minutes and was given up on",
        ),
        alert(
            3,
            "HighLatencyP95",
            "weather",
            AlertState.PENDING,
            minutes_ago=2,
            value=1840.0,
            summary="p95 latency of weather is 1840 ms (> 1000 ms)",
        ),
        alert(
            2,
            "HighErrorRate",
            "weather-eu",
            AlertState.FIRING,
            minutes_ago=30,
            value=0.12,
            summary="12% of weather-eu's requests fail (> 5%)",
            acknowledged_by="admin",
        ),
        alert(
            1,
            "InstanceDown",
            "fetch",
            AlertState.RESOLVED,
            severity=Severity.CRITICAL,
            minutes_ago=120,
            value=0.0,
            summary="fetch had 1 replica not running healthy",
        ),
    ]


BUILT_IN = (
    RuleCreate(
        name="CrashLoop",
        metric="crash_looping",
        threshold=0,
        window_s=60,
        severity=Severity.CRITICAL,
        description="an instance crashes again and again, or was given up on",
    ),
    RuleCreate(
        name="HighErrorRate",
        metric="error_rate",
        threshold=0.05,
        for_s=120,
        description="more than 5% of requests fail",
    ),
    RuleCreate(
        name="HighLatencyP95",
        metric="p95_ms",
        threshold=2000,
        for_s=300,
        description="the slowest 5% of requests take more than 2 s",
    ),
    RuleCreate(
        name="InstanceDown",
        metric="instances_unavailable",
        threshold=0,
        window_s=60,
        for_s=60,
        severity=Severity.CRITICAL,
        description="fewer healthy instances than the deployment asks for",
    ),
)


def alerting_client(**kwargs: Any) -> FakeClient:
    """The sample deployments with alerts, a custom rule and two notification targets."""
    client = live_client(**kwargs)
    client.alerts = sample_alerts()
    # Fixed rules, not the backend's built-ins of the day: the snapshots show these.
    client.alert_rules = [rule_view(rule, builtin=True) for rule in BUILT_IN]
    custom = RuleCreate(
        name="SlowWeather",
        metric="p99_ms",
        threshold=2500,
        window_s=600,
        for_s=120,
        severity=Severity.INFO,
        deployment="weather",
        description="The weather API is slower than its SLO.",
    )
    client.alert_rules.append(rule_view(custom, builtin=False))
    client.alert_targets = [
        TargetView(
            name="ops-hook",
            kind=TargetKind.WEBHOOK,
            url="https://hooks.example.com/alerts",
            signed=True,
            created_at=NOW - timedelta(days=2),
        ),
        TargetView(
            name="team-slack",
            kind=TargetKind.APPRISE,
            url="slack://T000/B000/****",
            signed=False,
            created_at=NOW - timedelta(days=1),
        ),
    ]
    client.alert_log = [
        DeliveryView(
            id=1,
            target="team-slack",
            alert="HighErrorRate",
            state=DeliveryState.WAITING,
            alert_state=AlertState.FIRING,
            attempts=3,
            last_error="connection refused",
            next_attempt_at=NOW + timedelta(minutes=2),
            created_at=NOW - timedelta(minutes=29),
            delivered_at=None,
        )
    ]
    return client
