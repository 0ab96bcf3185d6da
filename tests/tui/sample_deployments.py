"""Sample deployments for the TUI's tests and snapshots: every status, a red instance with its
reasons, history, sessions and log lines, dated by the frozen clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from mcp_console.schemas.deploy import (
    DeploymentDetail,
    DeploymentStatus,
    DesiredState,
    HealthState,
    HistoryEntry,
    InstanceStatus,
    InstanceView,
    RuntimeChoice,
)
from tests.fakes import FakeClient
from tests.tui.sample import NOW, sample_catalog, sample_reviews

CRASH_TAIL = [
    "Traceback (most recent call last):",
    '  File "/app/server.py", line 41, in <module>',
    "    client = Weather(api_key=os.environ['API_KEY'])",
    '  File "/app/weather.py", line 12, in __init__',
    "    raise AuthError('the API key was refused (401)')",
    "weather.AuthError: the API key was refused (401)",
]


def instance(
    name: str,
    version: str,
    *,
    status: InstanceStatus = InstanceStatus.RUNNING,
    health: HealthState = HealthState.HEALTHY,
    index: int = 1,
    last_error: str | None = None,
    stderr_tail: list[str] | None = None,
    restarts: int = 0,
    exit_code: int | None = None,
) -> InstanceView:
    """An instance as the backend shows it."""
    return InstanceView(
        id=index,
        name=name,
        version=version,
        status=status,
        health=health,
        driver="process",
        ref=f"pid-{4100 + index}",
        transport="stdio",
        host=None,
        port=None,
        url=None,
        last_health_check=NOW - timedelta(seconds=5)
        if status is not InstanceStatus.STARTING
        else None,
        last_error=last_error,
        stderr_tail=stderr_tail or [],
        restart_count=restarts,
        exit_code=exit_code,
        created_at=NOW - timedelta(hours=3),
    )


def deployment(
    name: str,
    service: str,
    version: str,
    status: DeploymentStatus,
    instances: list[InstanceView],
    *,
    replicas: int | None = None,
    reason: str | None = None,
    previous: str | None = None,
    target: str | None = None,
    desired: DesiredState = DesiredState.RUNNING,
    autoscale: dict[str, Any] | None = None,
    hours_ago: int = 2,
    index: int = 1,
) -> DeploymentDetail:
    """A deployment as the backend shows it."""
    wanted = len(instances) if replicas is None else replicas
    ready = sum(
        i.status is InstanceStatus.RUNNING and i.health is HealthState.HEALTHY for i in instances
    )
    return DeploymentDetail(
        id=index,
        name=name,
        address=name,  # the viewer's own
        owner="admin",
        service=service,
        version=version,
        status=status,
        status_reason=reason,
        desired_state=desired,
        runtime=RuntimeChoice.PROCESS,
        driver="process",
        transport="stdio",
        replicas=wanted,
        ready_replicas=ready,
        endpoint_url=f"http://127.0.0.1:8765/mcp/{name}",
        target_version=target,
        previous_version=previous,
        created_at=NOW - timedelta(days=3),
        updated_at=NOW - timedelta(hours=hours_ago),
        config={"UNITS": "metric"} if service == "acme/weather" else {},
        secret_names=["API_KEY"] if service == "acme/weather" else [],
        cpu_limit=None,
        memory_limit_mb=None,
        session_mode="shared",
        autoscale=autoscale,
        rollout_deadline=None,
        instances=instances,
    )


def sample_deployments() -> list[DeploymentDetail]:
    """Five deployments: running, degraded with a crash-looping instance, deploying, stopped
    and failed."""
    return [
        deployment(
            "weather",
            "acme/weather",
            "2.1.0",
            DeploymentStatus.RUNNING,
            [instance("weather-1", "2.1.0", index=1), instance("weather-2", "2.1.0", index=2)],
            previous="2.0.0",
            autoscale={"min_replicas": 1, "max_replicas": 4, "target_inflight": 4},
            index=1,
        ),
        deployment(
            "weather-eu",
            "acme/weather",
            "2.1.0",
            DeploymentStatus.DEGRADED,
            [
                instance("weather-eu-1", "2.1.0", index=3),
                instance(
                    "weather-eu-2",
                    "2.1.0",
                    status=InstanceStatus.RESTARTING,
                    health=HealthState.UNHEALTHY,
                    index=4,
                    last_error="exited with code 1 before answering initialize",
                    stderr_tail=CRASH_TAIL,
                    restarts=4,
                    exit_code=1,
                ),
            ],
            reason="1 of 2 instances healthy; weather-eu-2 restarts in 8 s (4 restarts)",
            previous="2.0.0",
            hours_ago=1,
            index=2,
        ),
        deployment(
            "github",
            "io.github.octo/github",
            "1.0.0",
            DeploymentStatus.DEPLOYING,
            [
                instance(
                    "github-1",
                    "1.0.0",
                    status=InstanceStatus.STARTING,
                    health=HealthState.UNKNOWN,
                    index=5,
                )
            ],
            reason="0 of 1 instances healthy",
            hours_ago=0,
            index=3,
        ),
        deployment(
            "postgres",
            "pg/postgres",
            "1.0.0",
            DeploymentStatus.STOPPED,
            [],
            replicas=1,
            desired=DesiredState.STOPPED,
            reason="stopped by admin",
            hours_ago=30,
            index=4,
        ),
        deployment(
            "slack",
            "team/slack",
            "1.0.0",
            DeploymentStatus.FAILED,
            [
                instance(
                    "slack-1",
                    "1.0.0",
                    status=InstanceStatus.FAILED,
                    health=HealthState.UNHEALTHY,
                    index=6,
                    last_error="crash loop: exited 5 times in 60 s (SLACK_TOKEN is not set)",
                    stderr_tail=["error: SLACK_TOKEN is not set"],
                    restarts=5,
                    exit_code=2,
                )
            ],
            reason="crash loop: slack-1 exited 5 times in 60 s",
            hours_ago=5,
            index=5,
        ),
    ]


def _history(
    name: str, rows: list[tuple[int, str, str, dict[str, Any], str]]
) -> list[HistoryEntry]:
    return [
        HistoryEntry(
            id=len(rows) - n,
            deployment=name,
            at=NOW - timedelta(hours=hours),
            actor=actor,
            action=action,
            changes=changes,
            reason=reason,
            automatic=actor == "system",
        )
        for n, (hours, actor, action, changes, reason) in enumerate(rows)
    ]


def sample_history() -> dict[str, list[HistoryEntry]]:
    """What happened to the weather deployments, newest first."""
    return {
        "weather": _history(
            "weather",
            [
                (
                    1,
                    "system",
                    "scale",
                    {"replicas": "1 → 2"},
                    "in flight 9.2 per instance, target 4",
                ),
                (2, "admin", "update", {"version": "2.0.0 → 2.1.0"}, ""),
                (26, "admin", "autoscale", {"min_replicas": 1, "max_replicas": 4}, ""),
                (72, "admin", "create", {"version": "2.0.0", "replicas": 1}, ""),
            ],
        ),
        "weather-eu": _history(
            "weather-eu",
            [
                (1, "system", "restart", {"instance": "weather-eu-2"}, "exited with code 1"),
                (72, "admin", "create", {"version": "2.1.0", "replicas": 2}, ""),
            ],
        ),
    }


def sample_logs(client: FakeClient) -> None:
    """Log lines of the weather deployments' instances."""
    for name in ("weather", "weather-eu"):
        for n in (1, 2):
            who = f"{name}-{n}"
            client.live.write(
                name,
                who,
                f"INFO  {who} listening on stdio (protocol 2025-11-25)",
                "INFO  tools/call forecast place=Lyon days=2 → 200 in 41 ms",
                "WARN  upstream slow: api.openweathermap.org took 870 ms",
                "INFO  tools/call alerts region=eu → 200 in 35 ms",
                "ERROR tools/call forecast place=Atlantis → place not found",
                "INFO  tools/call forecast place=Kyoto days=5 → 200 in 52 ms",
            )
    client.live.write("weather-eu", "weather-eu-2", *CRASH_TAIL)


def sample_sessions(client: FakeClient) -> None:
    """Three sessions on each weather deployment, the newest first."""
    for prefix, name in (("7f", "weather"), ("e2", "weather-eu")):
        first = f"{name}-1"
        client.live.open_session(
            name, f"{prefix}3a9c21d0e44b", instance=first, requests=412, in_flight=1, age_s=3600
        )
        client.live.open_session(
            name,
            f"{prefix}81e4d2aa9c07",
            instance=first,
            client="cursor 0.48",
            user="maria",
            requests=37,
            age_s=600,
        )
        client.live.open_session(
            name,
            f"{prefix}d5e6f7b1c3a8",
            instance=first,
            client="mcp-inspector 0.17",
            user="li",
            requests=3,
            in_flight=2,
            age_s=30,
        )


def live_client(**kwargs: Any) -> FakeClient:
    """A FakeClient holding the sample catalog and deployments, with history, sessions and
    logs."""
    client = FakeClient(sample_catalog(), reviews=sample_reviews(), **kwargs)
    for detail in sample_deployments():
        client.deployments[detail.name] = detail
    client.deploys.history.update(sample_history())
    sample_logs(client)
    sample_sessions(client)
    return client
