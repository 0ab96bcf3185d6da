"""DeploymentProgress: a deployment's status and each instance's health, as it converges."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from mcp_console.schemas.deploy import (
    PULL_EVENT,
    DeploymentDetail,
    DeploymentStatus,
    HealthState,
    InstanceStatus,
)

_STATUS_STYLE = {
    DeploymentStatus.DEPLOYING: "yellow",
    DeploymentStatus.RUNNING: "green",
    DeploymentStatus.DEGRADED: "yellow",
    DeploymentStatus.FAILED: "bold red",
    DeploymentStatus.STOPPED: "dim",
}
_HEALTH_STYLE = {HealthState.HEALTHY: "green", HealthState.UNHEALTHY: "red"}
_STDERR_LINES = 3
_BAR_WIDTH = 30


def is_healthy(deployment: DeploymentDetail) -> bool:
    """Every wanted instance answers its health checks."""
    return (
        deployment.status is DeploymentStatus.RUNNING
        and deployment.ready_replicas >= deployment.replicas
    )


def has_failed(deployment: DeploymentDetail) -> bool:
    """It will not become healthy without someone changing something."""
    return deployment.status is DeploymentStatus.FAILED


class DeploymentProgress(Static):
    """Renders a deployment snapshot: status badge, reason, and an instance table."""

    DEFAULT_CSS = """
    DeploymentProgress {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._deployment: DeploymentDetail | None = None
        self._step: dict[str, Any] | None = None

    def step(self, event: dict[str, Any]) -> None:
        """Show what the deployment does before its server starts: an image pull (with its
        layers and bytes), a package install or an image build (a progress event)."""
        self._step = event
        if self._deployment is not None:
            self.show(self._deployment)

    def _step_line(self) -> RenderableType | None:
        event = self._step
        if event is None:
            return None
        done = bool(event.get("done"))
        pull = event.get("type") == PULL_EVENT
        line = Text("✓ " if done else ("⇣ " if pull else "⚙ "), style="green" if done else "cyan")
        line.append(str(event.get("reason") or ""))
        total = int(event.get("bytes_total") or 0)
        if not pull or done or not total:
            return line
        completed = int(event.get("bytes_done") or 0)
        # In a grid: a bar alone ends no line, and the next part would follow on its own.
        bar = Table.grid(padding=(0, 1))
        bar.add_row(
            ProgressBar(total=total, completed=completed, width=_BAR_WIDTH),
            Text(f"{min(completed / total, 1.0):.0%}", style="dim"),
        )
        return Group(line, bar)

    def show(self, deployment: DeploymentDetail) -> None:
        """Draw ``deployment``; an unhealthy instance shows its last error and stderr tail."""
        self._deployment = deployment
        head = Text(f"{deployment.name} ", style="bold")
        head.append(f"[{deployment.status.value}]", style=_STATUS_STYLE[deployment.status])
        head.append(
            f"  {deployment.service} {deployment.version} · "
            f"{deployment.ready_replicas}/{deployment.replicas} healthy · "
            f"runtime {deployment.driver or deployment.runtime.value}"
        )
        parts: list[RenderableType] = [head]
        step = self._step_line()
        if step is not None:
            parts.append(step)
        if deployment.status_reason and deployment.status_reason != (self._step or {}).get(
            "reason"
        ):
            parts.append(Text(f"why: {deployment.status_reason}", style="italic"))
        if deployment.endpoint_url:
            parts.append(Text(f"endpoint: {deployment.endpoint_url}", style="cyan"))
        table = Table(box=None, header_style="bold", pad_edge=False, expand=True)
        for column in ("Instance", "Status", "Health", "Restarts", "Last error"):
            table.add_column(column, no_wrap=column != "Last error")
        for instance in deployment.instances:
            error = Text(instance.last_error or "", style="red")
            if instance.health is not HealthState.HEALTHY and instance.stderr_tail:
                for line in instance.stderr_tail[-_STDERR_LINES:]:
                    error.append(f"\n  {line}", style="dim")
            table.add_row(
                instance.name,
                Text(
                    instance.status.value,
                    style="red" if instance.status is InstanceStatus.FAILED else "",
                ),
                Text(instance.health.value, style=_HEALTH_STYLE.get(instance.health, "yellow")),
                str(instance.restart_count),
                error,
            )
        if deployment.instances:
            parts.append(table)
        else:
            parts.append(Text("No instance has started yet.", style="dim"))
        self.update(Group(*parts))
