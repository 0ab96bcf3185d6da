"""Rows of the monitor's instance and session tables, and the panel that says why one is red."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from rich.console import Group, RenderableType
from rich.text import Text
from textual.widgets import Static

from mcp_console.schemas.deploy import HealthState, InstanceStatus, InstanceView
from mcp_console.schemas.monitor import InstanceUsage, SessionView
from mcp_console.widgets.badges import (
    cpu,
    health_badge,
    instance_badge,
    megabytes,
    percent,
    rate,
    session_badge,
)
from mcp_console.widgets.columns import Column
from mcp_console.widgets.live_table import Row
from mcp_console.widgets.timefmt import ago

INSTANCE_COLUMNS = (
    Column("Instance", "instance", least=16),
    Column("Status", "status", cut=False),
    Column("Health", "health", cut=False),
    Column("Req/s", "rps", cut=False),
    Column("Errors", "errors", cut=False),
    Column("In flight", "inflight", cut=False, hide=4),
    Column("CPU", "cpu", cut=False),
    Column("Memory", "memory", cut=False),
    # The panel under the table tells these of the highlighted instance.
    Column("Restarts", "restarts", cut=False, hide=2),
    Column("Version", "version", least=7, hide=3),
    Column("Last error", "error", least=10, hide=1),
)
SESSION_COLUMNS = (
    Column("Session", "id", cut=False),
    Column("State", "state", cut=False),
    Column("Instance", "instance", least=12),
    Column("Client", "client", least=8),
    Column("User", "user", least=5),
    Column("Requests", "requests", cut=False),
    Column("In flight", "inflight", cut=False, hide=2),
    Column("Last seen", "seen", cut=False, hide=3),
    Column("Started", "started", cut=False, hide=1),
)
STDERR_LINES = 6
_ERROR_WIDTH = 48


def is_red(instance: InstanceView) -> bool:
    """An instance that does not serve, or that its health checks call unhealthy."""
    return instance.status in (
        InstanceStatus.FAILED,
        InstanceStatus.RESTARTING,
    ) or (instance.health is HealthState.UNHEALTHY)


def instance_rows(
    instances: Sequence[InstanceView], usage: Mapping[str, InstanceUsage]
) -> list[Row]:
    """One row per instance: its state, its share of the traffic and what it costs."""
    rows: list[Row] = []
    for instance in instances:
        used = usage.get(instance.name)
        error = (instance.last_error or "").splitlines()[0] if instance.last_error else ""
        if len(error) > _ERROR_WIDTH:
            error = error[: _ERROR_WIDTH - 1] + "…"
        rows.append(
            (
                instance.name,
                (
                    Text(instance.name, style="bold"),
                    instance_badge(instance.status),
                    health_badge(instance.health),
                    rate(used.requests_per_s) if used else "—",
                    percent(used.error_rate) if used else Text("—"),
                    str(used.in_flight) if used else "—",
                    cpu(used.cpu_percent) if used else "—",
                    megabytes(used.memory_mb) if used else "—",
                    str(instance.restart_count),
                    instance.version or "—",
                    Text(error, style="red"),
                ),
            )
        )
    return rows


def why(instance: InstanceView, now: datetime) -> RenderableType:
    """What a user needs to know about one instance; for a red one, why it is red."""
    head = Text(f"{instance.name} ", style="bold")
    head.append_text(instance_badge(instance.status))
    head.append(" · ")
    head.append_text(health_badge(instance.health))
    checked = ago(instance.last_health_check, now) if instance.last_health_check else "never"
    head.append(
        f" · version {instance.version or '—'} · {instance.restart_count} restart(s)"
        f" · checked {checked}",
        style="default",
    )
    if not is_red(instance) and not instance.last_error:
        return head
    parts: list[RenderableType] = [head]
    reason = Text("why: ", style="bold")
    reason.append(instance.last_error or "no error was recorded", style="red")
    if instance.exit_code is not None:
        reason.append(f" (exit code {instance.exit_code})", style="red")
    parts.append(reason)
    if instance.stderr_tail:
        tail = instance.stderr_tail[-STDERR_LINES:]
        parts.append(Text(f"stderr, last {len(tail)} line(s):", style="bold"))
        parts.extend(Text(f"  {line}", style="dim") for line in tail)
    else:
        parts.append(Text("It wrote nothing to stderr.", style="dim"))
    return Group(*parts)


class WhyPanel(Static):
    """Below the instance table: the highlighted instance, and why it is red when it is."""

    DEFAULT_CSS = """
    WhyPanel {
        height: auto;
        max-height: 50%;
        padding: 0 1;
        border-top: solid $primary-muted;
    }
    """

    def show(self, instance: InstanceView | None, now: datetime) -> None:
        """Describe ``instance`` (or say there is none)."""
        if instance is None:
            self.update(Text("No instance is running.", style="dim"))
        else:
            self.update(why(instance, now))


def session_rows(sessions: Sequence[SessionView], now: datetime) -> list[Row]:
    """One row per gateway session, newest first as the backend lists them."""
    return [
        (
            session.id,
            (
                Text(session.id[:12], style="bold"),
                session_badge(session.state),
                session.instance or "—",
                session.client or "—",
                session.user or "—",
                str(session.requests),
                str(session.in_flight),
                ago(session.last_seen, now),
                ago(session.created_at, now),
            ),
        )
        for session in sessions
    ]
