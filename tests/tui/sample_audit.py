"""A sample audit trail (changes by people and by the controller, tool calls) for the audit
view's tests and snapshots."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from mcp_console.schemas.audit import AuditEntry
from tests.fakes import FakeClient
from tests.tui.sample import NOW
from tests.tui.sample_deployments import live_client

# The users of the sample trail: the admin the fake acts as (1) and maria, who owns nothing.
ADMIN, MARIA = 1, 7

# (minutes before the frozen clock, kind, actor, user id, via, target, deployment, detail),
# oldest first.
EVENTS: tuple[
    tuple[int, str, str, int | None, str | None, str, str | None, dict[str, Any]], ...
] = (
    (
        3 * 24 * 60,
        "deployment.created",
        "admin",
        ADMIN,
        "local",
        "weather",
        "weather",
        {"service": "acme/weather", "version": "2.0.0", "replicas": 2},
    ),
    (2 * 24 * 60, "key.created", "maria", MARIA, "api", "ci-bot", None, {"prefix": "mcp_4f2a"}),
    (
        26 * 60,
        "deployment.updating",
        "admin",
        ADMIN,
        "local",
        "weather",
        "weather",
        {"from_version": "2.0.0", "to_version": "2.1.0"},
    ),
    (
        25 * 60,
        "deployment.rollout",
        "controller",
        None,
        None,
        "weather",
        "weather",
        {"version": "2.1.0", "outcome": "done"},
    ),
    (
        50,
        "deployment.scaled",
        "admin",
        ADMIN,
        "api",
        "weather-eu",
        "weather-eu",
        {"replicas": 2, "was": 1},
    ),
    (
        30,
        "tool.call",
        "maria",
        MARIA,
        "gateway",
        "forecast",
        "weather",
        {"outcome": "ok", "status": 200, "latency_ms": 41.2},
    ),
    (
        20,
        "deployment.drift.policy",
        "admin",
        ADMIN,
        "local",
        "weather",
        "weather",
        {"policy": "block", "was": "alert"},
    ),
    (
        12,
        "tool.call",
        "maria",
        MARIA,
        "gateway",
        "forecast",
        "weather",
        {"outcome": "rpc -32603", "status": 200, "latency_ms": 1840.0},
    ),
    (
        5,
        "alert.silenced",
        "admin",
        ADMIN,
        "local",
        "3",
        "weather-eu",
        {"matchers": {"alertname": "CrashLoop"}, "duration_s": 3600},
    ),
    (
        2,
        "tool.call",
        "admin",
        ADMIN,
        "gateway",
        "search_code",
        "github",
        {"outcome": "ok", "status": 200, "latency_ms": 312.5},
    ),
)


def sample_trail() -> list[AuditEntry]:
    """The sample events as the backend keeps them, oldest first (ids 1 to 10)."""
    return [
        AuditEntry(
            id=index,
            at=NOW - timedelta(minutes=minutes),
            kind=kind,
            actor=actor,
            user_id=user_id,
            via=via,
            target=target,
            deployment=deployment,
            detail=detail,
        )
        for index, (minutes, kind, actor, user_id, via, target, deployment, detail) in enumerate(
            EVENTS, start=1
        )
    ]


def audited_client(**kwargs: Any) -> FakeClient:
    """The sample deployments with ten audit events over the last three days."""
    client = live_client(**kwargs)
    client.audit_log = sample_trail()
    return client
