"""The monitor's headline: the deployment, its state, and its traffic figures right now."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from mcp_console.schemas.deploy import DeploymentDetail, DeploymentStatus
from mcp_console.schemas.monitor import DeploymentMetrics
from mcp_console.widgets.badges import deployment_badge, millis, percent, rate
from mcp_console.widgets.deployment_rows import ready_text, version_text

_ATTENTION = (DeploymentStatus.FAILED, DeploymentStatus.DEGRADED)


def figures(metrics: DeploymentMetrics | None, sessions: int | None) -> Text:
    """``12.4 req/s · errors 1.2% · p50 42 ms · p95 130 ms · 3 in flight · 2 session(s)``."""
    if metrics is None:
        return Text("waiting for the first figures…", style="dim italic")
    if not metrics.points and not metrics.requests_per_s:
        text = Text(f"no requests in the last {metrics.window_s} s", style="dim")
    else:
        text = Text(f"{rate(metrics.requests_per_s)} req/s", style="bold")
        text.append(" · errors ")
        text.append_text(percent(metrics.error_rate))
        text.append(f" · p50 {millis(metrics.p50_ms)} · p95 {millis(metrics.p95_ms)}")
    text.append(f" · {metrics.in_flight} in flight")
    if sessions is not None:
        text.append(f" · {sessions} session(s)")
    return text


def headline(
    detail: DeploymentDetail,
    metrics: DeploymentMetrics | None,
    sessions: int | None,
    problem: str | None = None,
    reach: str | None = None,
) -> RenderableType:
    """Who, what state, which version, how many healthy, the endpoint, the figures, how the
    viewer comes to reach it (``reach``, for someone else's), and why it is not well."""
    first = Text(detail.address, style="bold")
    first.append("  ")
    first.append_text(deployment_badge(detail.status))
    first.append(f"  {detail.service} ")
    first.append_text(version_text(detail))
    first.append(" · ")
    first.append_text(ready_text(detail))
    first.append(f" healthy · {detail.driver or detail.runtime.value}")
    if detail.endpoint_url:
        first.append(f" · {detail.endpoint_url}", style="cyan")
    lines: list[RenderableType] = [first, figures(metrics, sessions)]
    if reach:
        lines.append(Text(reach, style="italic"))
    if detail.status_reason:
        why = Text("why: ", style="bold")
        why.append(detail.status_reason, style="red" if detail.status in _ATTENTION else "")
        lines.append(why)
    if problem:
        lines.append(Text(f"✗ {problem}", style="bold red"))
    return Group(*lines)
