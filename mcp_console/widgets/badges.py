"""Status badges and figures: a glyph and a word for every state, so no meaning rests on colour."""

from __future__ import annotations

from rich.text import Text

from mcp_console.schemas.deploy import DeploymentStatus, HealthState, InstanceStatus
from mcp_console.schemas.monitor import SessionState
from mcp_console.schemas.users import KeyState

_DEPLOYMENT = {
    DeploymentStatus.RUNNING: ("●", "green"),
    DeploymentStatus.DEPLOYING: ("◌", "yellow"),
    DeploymentStatus.DEGRADED: ("▲", "yellow"),
    DeploymentStatus.FAILED: ("✗", "bold red"),
    DeploymentStatus.STOPPED: ("■", "dim"),
}
_INSTANCE = {
    InstanceStatus.RUNNING: ("●", "green"),
    InstanceStatus.STARTING: ("◌", "yellow"),
    InstanceStatus.RESTARTING: ("↻", "yellow"),
    InstanceStatus.DRAINING: ("◑", "cyan"),
    InstanceStatus.STOPPED: ("■", "dim"),
    InstanceStatus.FAILED: ("✗", "bold red"),
}
_HEALTH = {
    HealthState.HEALTHY: ("✓", "green"),
    HealthState.UNHEALTHY: ("✗", "bold red"),
    HealthState.UNKNOWN: ("?", "yellow"),
}
_SESSION = {SessionState.ACTIVE: ("●", "green"), SessionState.DRAINING: ("◑", "yellow")}
_KEY = {
    KeyState.ACTIVE: ("●", "green"),
    KeyState.EXPIRED: ("◌", "yellow"),
    KeyState.REVOKED: ("✗", "red"),
}


def deployment_badge(status: DeploymentStatus) -> Text:
    """``● RUNNING`` in green, ``✗ FAILED`` in red, …"""
    glyph, style = _DEPLOYMENT[status]
    return Text(f"{glyph} {status.value}", style=style)


def instance_badge(status: InstanceStatus) -> Text:
    """An instance's life state with its glyph."""
    glyph, style = _INSTANCE[status]
    return Text(f"{glyph} {status.value}", style=style)


def health_badge(health: HealthState) -> Text:
    """``✓ HEALTHY``, ``✗ UNHEALTHY`` or ``? UNKNOWN``."""
    glyph, style = _HEALTH[health]
    return Text(f"{glyph} {health.value}", style=style)


def session_badge(state: SessionState) -> Text:
    """A gateway session's state with its glyph."""
    glyph, style = _SESSION[state]
    return Text(f"{glyph} {state.value}", style=style)


def key_badge(state: KeyState) -> Text:
    """``● active``, ``◌ expired`` or ``✗ revoked``."""
    glyph, style = _KEY[state]
    return Text(f"{glyph} {state.value}", style=style)


def rate(value: float | None) -> str:
    """Requests per second for a narrow column: ``—`` where no gateway measures it."""
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}"


def percent(fraction: float | None) -> Text:
    """An error rate (0..1) as a percentage, red once it matters."""
    if fraction is None:
        return Text("—")
    style = "bold red" if fraction >= 0.05 else "yellow" if fraction > 0 else ""
    return Text(f"{fraction * 100:.1f}%", style=style)


def millis(value: float | None) -> str:
    """A latency in milliseconds, ``—`` when nothing was measured."""
    if value is None:
        return "—"
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def megabytes(value: float | None) -> str:
    """Memory in MB, ``—`` when the runtime cannot tell."""
    return "—" if value is None else f"{value:.0f} MB"


def cpu(value: float | None) -> str:
    """CPU use in percent of one core, ``—`` when the runtime cannot tell."""
    return "—" if value is None else f"{value:.0f}%"
