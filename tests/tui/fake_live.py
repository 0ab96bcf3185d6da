"""Live figures, sessions and log lines for FakeClient: deterministic, driven by a clock.

The clock starts at the snapshots' frozen ``NOW`` and moves only when a test calls
``advance``; every figure is a function of the second it describes, so the same clock gives
the same charts however often the monitor polls.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from mcp_console.schemas.deploy import (
    DeploymentDetail,
    DeploymentStatus,
    HealthState,
    InstanceLogs,
    InstanceStatus,
    InstanceView,
)
from mcp_console.schemas.errors import NotFound
from mcp_console.schemas.monitor import (
    DeploymentMetrics,
    InstanceUsage,
    SessionState,
    SessionView,
    TrafficPoint,
)
from tests.tui.sample import NOW

WINDOW = 60
_SERVING = (DeploymentStatus.RUNNING, DeploymentStatus.DEGRADED)
_ALIVE = (InstanceStatus.RUNNING, InstanceStatus.STARTING, InstanceStatus.DRAINING)


def requests_at(second: int) -> int:
    """Requests the gateway served in one second: 10 to 22, in a fixed pattern."""
    return 10 + (second * 7) % 13


def errors_at(second: int) -> int:
    """Failed requests in one second: now and then one, rarely three."""
    return (second % 9 == 0) + (2 if second % 23 == 0 else 0)


def p50_at(second: int) -> float:
    """The median latency of one second, in ms."""
    return float(30 + (second * 3) % 17)


def p95_at(second: int) -> float:
    """The 95th percentile latency of one second, in ms."""
    return p50_at(second) + 60 + (second * 11) % 41


def _serving(instance: InstanceView) -> bool:
    return instance.status is InstanceStatus.RUNNING and instance.health is HealthState.HEALTHY


class FakeLive:
    """The gateway's view of the deployments in ``deployments`` (shared with FakeDeployments).

    ``quiet`` deployments get no traffic; ``lines`` holds what each instance wrote, keyed by
    ``(deployment, instance)``; ``sessions`` the gateway's sessions per deployment.
    """

    def __init__(self, deployments: dict[str, DeploymentDetail]) -> None:
        self._deployments = deployments
        self.now = NOW
        self.quiet: set[str] = set()
        self.lines: dict[tuple[str, str], list[str]] = {}
        self.sessions: dict[str, list[SessionView]] = {}

    def advance(self, seconds: int = 1) -> None:
        """Move the clock on: the charts gain that many seconds."""
        self.now += timedelta(seconds=seconds)

    def write(self, deployment: str, instance: str, *lines: str) -> None:
        """``instance`` of ``deployment`` writes ``lines`` to its log."""
        self.lines.setdefault((deployment, instance), []).extend(lines)

    def open_session(
        self,
        deployment: str,
        session_id: str,
        *,
        instance: str | None,
        client: str | None = "claude-desktop 1.2",
        user: str | None = "admin",
        requests: int = 0,
        in_flight: int = 0,
        age_s: int = 60,
    ) -> SessionView:
        """A client opens a session through the gateway (newest first in the list)."""
        self._get(deployment)
        session = SessionView(
            id=session_id,
            deployment=deployment,
            instance=instance,
            state=SessionState.ACTIVE,
            protocol="2025-11-25",
            client=client,
            user=user,
            created_at=self.now - timedelta(seconds=age_s),
            last_seen=self.now - timedelta(seconds=min(age_s, 2)),
            requests=requests,
            in_flight=in_flight,
        )
        self.sessions.setdefault(deployment, []).insert(0, session)
        return session

    def _get(self, name: str) -> DeploymentDetail:
        found = self._deployments.get(name)
        if found is None:
            raise NotFound(f"no deployment named {name!r}", field="name")
        return found

    def _has_traffic(self, d: DeploymentDetail) -> bool:
        return (
            d.name not in self.quiet
            and d.status in _SERVING
            and any(_serving(i) for i in d.instances)
        )

    # --- what FakeClient answers ----------------------------------------------------------

    def figures(self, name: str) -> tuple[float | None, float | None]:
        """Requests/s and error rate over the window, as the deployments list shows them."""
        d = self._get(name)
        if d.status not in _SERVING:
            return None, None
        metrics = self.metrics(name)
        return metrics.requests_per_s, metrics.error_rate

    def metrics(self, name: str) -> DeploymentMetrics:
        """The last minute second by second, and each live instance now."""
        d = self._get(name)
        end = int(self.now.timestamp())
        seconds = range(end - WINDOW + 1, end + 1) if self._has_traffic(d) else range(0)
        points = [
            TrafficPoint(
                at=datetime.fromtimestamp(s, tz=self.now.tzinfo),
                requests=requests_at(s),
                errors=errors_at(s),
                p50_ms=p50_at(s),
                p95_ms=p95_at(s),
            )
            for s in seconds
        ]
        total = sum(p.requests for p in points)
        failed = sum(p.errors for p in points)
        serving = [i for i in d.instances if _serving(i)]
        instances: list[InstanceUsage] = []
        for index, instance in enumerate(i for i in d.instances if i.status in _ALIVE):
            up = instance in serving and bool(points)
            share = requests_at(end) / len(serving) if up else 0.0
            instances.append(
                InstanceUsage(
                    instance=instance.name,
                    in_flight=1 + (end + index) % 3 if up else 0,
                    requests_per_s=round(share, 1),
                    error_rate=round(failed / total, 4) if up and total else 0.0,
                    cpu_percent=None
                    if instance.status is InstanceStatus.STARTING
                    else float(4 + (end + 7 * index) % 20 if up else 1),
                    memory_mb=None
                    if instance.status is InstanceStatus.STARTING
                    else float(60 + 8 * index + end % 5),
                )
            )
        p50s = sorted(p.p50_ms for p in points if p.p50_ms is not None)
        p95s = sorted(p.p95_ms for p in points if p.p95_ms is not None)
        return DeploymentMetrics(
            deployment=name,
            window_s=WINDOW,
            requests_per_s=round(total / WINDOW, 2),
            error_rate=round(failed / total, 4) if total else 0.0,
            p50_ms=p50s[len(p50s) // 2] if p50s else None,
            p95_ms=p95s[int(len(p95s) * 0.95)] if p95s else None,
            in_flight=sum(u.in_flight for u in instances),
            points=points,
            instances=instances,
        )

    def list_sessions(self, name: str) -> list[SessionView]:
        """The deployment's sessions, newest first."""
        self._get(name)
        return list(self.sessions.get(name, []))

    def _session(self, name: str, session_id: str) -> tuple[list[SessionView], int]:
        self._get(name)
        held = self.sessions.get(name, [])
        for index, session in enumerate(held):
            if session.id == session_id:
                return held, index
        raise NotFound(f"{name} has no session {session_id!r}", field="session")

    def drain(self, name: str, session_id: str) -> SessionView:
        """The session takes no new requests and ends when its last one is answered."""
        held, index = self._session(name, session_id)
        held[index] = held[index].model_copy(update={"state": SessionState.DRAINING})
        return held[index]

    def kill(self, name: str, session_id: str) -> None:
        """The session ends now."""
        held, index = self._session(name, session_id)
        del held[index]

    def logs(self, name: str, listed: list[InstanceLogs], tail: int) -> list[InstanceLogs]:
        """``listed`` (one entry per instance) with the lines each instance wrote."""
        return [
            entry.model_copy(update={"lines": self.lines.get((name, entry.instance), [])[-tail:]})
            for entry in listed
        ]
