"""Rows of the deployments table: status badge, version (and where it is going), live figures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text

from mcp_console.schemas.deploy import DeploymentView
from mcp_console.widgets.badges import deployment_badge, percent, rate
from mcp_console.widgets.columns import Column
from mcp_console.widgets.live_table import Row
from mcp_console.widgets.timefmt import ago

DEPLOYMENT_COLUMNS = (
    Column("Deployment", "name", least=10),
    Column("Status", "status", cut=False),
    Column("Version", "version", least=7),
    Column("Ready", "ready", cut=False),
    Column("Req/s", "rps", cut=False),
    Column("Errors", "errors", cut=False),
    Column("Service", "service", least=7),
    # The monitor says both; a narrow list keeps room for who owns what.
    Column("Runtime", "runtime", cut=False, hide=1),
    Column("Owner", "owner", least=5),
    Column("Updated", "updated", cut=False, hide=2),
)


def listing_order(deployment: DeploymentView) -> tuple[bool, str]:
    """How deployments are listed: the viewer's own first, then others' (``owner/name``)."""
    return (deployment.address != deployment.name, deployment.address)


def version_text(deployment: DeploymentView) -> Text:
    """The running version, and the one being rolled out when there is one."""
    text = Text(deployment.version)
    if deployment.target_version and deployment.target_version != deployment.version:
        text.append(f" → {deployment.target_version}", style="yellow")
    return text


def ready_text(deployment: DeploymentView) -> Text:
    """Healthy instances of those wanted, e.g. ``1/2``; short of the goal shows in yellow."""
    short = deployment.ready_replicas < deployment.replicas
    return Text(
        f"{deployment.ready_replicas}/{deployment.replicas}", style="yellow" if short else ""
    )


def deployment_rows(deployments: Sequence[DeploymentView], now: datetime) -> list[Row]:
    """One row per deployment, keyed by its address (``owner/name`` when someone else's)."""
    return [
        (
            d.address,
            (
                Text(d.address, style="bold"),
                deployment_badge(d.status),
                version_text(d),
                ready_text(d),
                rate(d.requests_per_s),
                percent(d.error_rate),
                d.service,
                d.driver or d.runtime.value,
                d.owner,
                ago(d.updated_at, now),
            ),
        )
        for d in deployments
    ]
