"""DeploymentProgress: a deployment's status and each instance's health, as it converges."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from mcp_console.schemas.deploy import (
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

    def show(self, deployment: DeploymentDetail) -> None:
        """Draw ``deployment``; an unhealthy instance shows its last error and stderr tail."""
        head = Text(f"{deployment.name} ", style="bold")
        head.append(f"[{deployment.status.value}]", style=_STATUS_STYLE[deployment.status])
        head.append(
            f"  {deployment.service} {deployment.version} · "
            f"{deployment.ready_replicas}/{deployment.replicas} healthy · "
            f"runtime {deployment.driver or deployment.runtime.value}"
        )
        parts: list[Text | Table] = [head]
        if deployment.status_reason:
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
