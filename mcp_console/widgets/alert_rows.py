"""Rows of the alerts section's tables: alerts, rules and notification targets, and a delivery."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text

from mcp_console.schemas.alerts import (
    AlertState,
    AlertView,
    DeliveryState,
    DeliveryView,
    RuleView,
    Severity,
    TargetView,
)
from mcp_console.widgets.columns import Column
from mcp_console.widgets.live_table import Row
from mcp_console.widgets.timefmt import ago, until

ALERT_COLUMNS = (
    Column("State", "state", cut=False),
    Column("Severity", "severity", cut=False, hide=4),
    Column("Rule", "rule", least=14),
    Column("Deployment", "deployment", least=10),
    Column("Since", "since", cut=False, hide=2),
    Column("Value", "value", justify="right", cut=False, hide=1),
    # Acknowledged or silenced: what a person on call needs before acting on a row.
    Column("Notes", "notes", least=12, grow=True, hide=3),
)
RULE_COLUMNS = (
    Column("Rule", "rule", least=12),
    Column("On", "enabled", cut=False),
    Column("Kind", "kind", cut=False),
    Column("Condition", "condition", least=30, grow=True),
    Column("Severity", "severity", cut=False, hide=2),
    Column("Deployment", "deployment", least=8, hide=1),
)
TARGET_COLUMNS = (
    Column("Target", "target", least=10),
    Column("Kind", "kind", cut=False),
    Column("URL", "url", least=16, grow=True),
    Column("Signed", "signed", cut=False, hide=1),
)

_STATE = {
    AlertState.FIRING: ("●", "bold red"),
    AlertState.PENDING: ("◌", "yellow"),
    AlertState.RESOLVED: ("✓", "green"),
}
_SEVERITY = {
    Severity.CRITICAL: ("!!", "bold red"),
    Severity.WARNING: ("!", "yellow"),
    Severity.INFO: ("i", "cyan"),
}
_DELIVERY = {
    DeliveryState.DELIVERED: ("✓", "green"),
    DeliveryState.WAITING: ("◌", "yellow"),
    DeliveryState.EXPIRED: ("✗", "bold red"),
}
# Firing first, then pending, then (with history shown) resolved; worst severity first.
_STATE_ORDER = (AlertState.FIRING, AlertState.PENDING, AlertState.RESOLVED)
_SEVERITY_ORDER = (Severity.CRITICAL, Severity.WARNING, Severity.INFO)


def alert_badge(state: AlertState) -> Text:
    """``● firing`` in red, ``◌ pending``, ``✓ resolved``."""
    glyph, style = _STATE[state]
    return Text(f"{glyph} {state.value}", style=style)


def severity_badge(severity: Severity) -> Text:
    """``!! critical``, ``! warning``, ``i info``."""
    glyph, style = _SEVERITY[severity]
    return Text(f"{glyph} {severity.value}", style=style)


def alert_order(alert: AlertView) -> tuple[int, int, float]:
    """Sort key: firing before pending before resolved, the worst and newest first."""
    return (
        _STATE_ORDER.index(alert.state),
        _SEVERITY_ORDER.index(alert.severity),
        -alert.started_at.timestamp(),
    )


def deployment_of(alert: AlertView) -> str:
    """The deployment an alert is about (its ``deployment`` label), or ``—``."""
    return alert.labels.get("deployment", "—")


def since(alert: AlertView) -> datetime:
    """When the alert entered its present state."""
    if alert.state is AlertState.RESOLVED and alert.resolved_at is not None:
        return alert.resolved_at
    if alert.state is AlertState.FIRING and alert.fired_at is not None:
        return alert.fired_at
    return alert.started_at


def notes(alert: AlertView) -> Text:
    """``silenced · acked by ada`` (what keeps it from notifying)."""
    text = Text()
    if alert.silenced:
        text.append("silenced", style="cyan")
    if alert.acknowledged_by:
        if text:
            text.append(" · ")
        text.append(f"acked by {alert.acknowledged_by}", style="dim")
    return text


def _value(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def alert_rows(alerts: Sequence[AlertView], now: datetime) -> list[Row]:
    """One row per alert, keyed by its id, in ``alert_order``."""
    return [
        (
            str(alert.id),
            (
                alert_badge(alert.state),
                severity_badge(alert.severity),
                Text(alert.rule, style="bold"),
                deployment_of(alert),
                ago(since(alert), now),
                _value(alert.value),
                notes(alert),
            ),
        )
        for alert in sorted(alerts, key=alert_order)
    ]


def alert_summary(alert: AlertView, now: datetime) -> Text:
    """The highlighted alert in full: what it says, when it started, fired, resolved."""
    text = Text(f"#{alert.id} {alert.rule}", style="bold")
    text.append(f" on {deployment_of(alert)} ")
    text.append_text(alert_badge(alert.state))
    text.append(" ")
    text.append_text(severity_badge(alert.severity))
    if alert.summary:
        text.append(f"\n{alert.summary}")
    times = [f"started {ago(alert.started_at, now)}"]
    if alert.fired_at is not None:
        times.append(f"fired {ago(alert.fired_at, now)}")
    if alert.resolved_at is not None:
        times.append(f"resolved {ago(alert.resolved_at, now)}")
    text.append("\n" + " · ".join(times), style="dim")
    extra = notes(alert)
    if extra:
        text.append(" · ")
        text.append_text(extra)
    return text


def _seconds(seconds: int) -> str:
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def condition(rule: RuleView) -> str:
    """``p95_ms > 1000 over 5m for 1m``."""
    text = f"{rule.metric} {rule.op.value} {rule.threshold:g} over {_seconds(rule.window_s)}"
    return text + (f" for {_seconds(rule.for_s)}" if rule.for_s else "")


def rule_rows(rules: Sequence[RuleView]) -> list[Row]:
    """One row per rule, keyed by its name; a rule that is off is dim."""
    return [
        (
            rule.name,
            (
                Text(rule.name, style="bold" if rule.enabled else "dim"),
                Text("✓ on", style="green") if rule.enabled else Text("■ off", style="dim"),
                Text("built-in", style="italic") if rule.builtin else "custom",
                condition(rule),
                severity_badge(rule.severity),
                rule.deployment or "every one",
            ),
        )
        for rule in rules
    ]


def rule_summary(rule: RuleView) -> Text:
    """The highlighted rule: its condition, what it is for, and whether it can be removed."""
    text = Text(rule.name, style="bold")
    text.append(f"  {condition(rule)}")
    if rule.description:
        text.append(f"\n{rule.description}")
    kind = "built in: it can be turned off, not removed" if rule.builtin else "added by hand"
    text.append(f"\n{'on' if rule.enabled else 'off'} · {kind}", style="dim")
    return text


def target_rows(targets: Sequence[TargetView]) -> list[Row]:
    """One row per notification target, keyed by its name (URLs come masked)."""
    return [
        (
            target.name,
            (
                Text(target.name, style="bold"),
                target.kind.value,
                target.url,
                "✓ HMAC" if target.signed else "—",
            ),
        )
        for target in targets
    ]


def delivery_text(delivery: DeliveryView, now: datetime) -> Text:
    """How one notification to a target went: ``✓ delivered …`` or why it is waiting."""
    glyph, style = _DELIVERY[delivery.state]
    text = Text(f"{glyph} {delivery.alert} to {delivery.target}: {delivery.state.value}", style)
    tries = f"{delivery.attempts} attempt{'s' if delivery.attempts != 1 else ''}"
    text.append(f" after {tries}", style="")
    if delivery.state is DeliveryState.DELIVERED and delivery.delivered_at is not None:
        text.append(f", {ago(delivery.delivered_at, now)}", style="")
    if delivery.last_error:
        text.append(f"\nlast error: {delivery.last_error}", style="red")
    if delivery.state is DeliveryState.WAITING and delivery.next_attempt_at is not None:
        text.append(f"\nnext attempt {until(delivery.next_attempt_at, now)}", style="dim")
    return text


def firing_count(alerts: Sequence[AlertView]) -> int:
    """How many of ``alerts`` fire (the header's badge)."""
    return sum(alert.state is AlertState.FIRING for alert in alerts)
