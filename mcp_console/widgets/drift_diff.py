"""The drift view's parts: a report's baseline and policy, its findings as rows, and one
finding's diff (the backend's unified diff, coloured)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from rich.text import Text

from mcp_console.schemas.drift import DefinitionChange, DriftFinding, DriftPolicy, DriftReport
from mcp_console.widgets.columns import Column
from mcp_console.widgets.live_table import Row
from mcp_console.widgets.timefmt import ago

FINDING_COLUMNS = (
    Column("State", "state", cut=False),
    Column("Change", "change", cut=False),
    Column("Kind", "kind", cut=False, hide=2),
    Column("Name", "name", least=12, grow=True),
    Column("Fields", "fields", least=10, most=40, hide=3),
    Column("Found", "found", cut=False, hide=1),
)

_CHANGE_STYLE = {
    DefinitionChange.ADDED: "green",
    DefinitionChange.REMOVED: "red",
    DefinitionChange.CHANGED: "yellow",
}
_KIND = {"tool": "tool", "prompt": "prompt", "resource_template": "template"}


def finding_key(finding: DriftFinding) -> str:
    """A finding's row key: its id."""
    return str(finding.id)


def waiting(report: DriftReport) -> list[DriftFinding]:
    """The findings no operator has approved yet."""
    return [f for f in report.findings if f.approved_at is None]


def changed_fields(finding: DriftFinding) -> list[str]:
    """The top-level fields of a changed definition whose values differ (``description``,
    ``inputSchema``); none for an added or removed one."""
    old, new = finding.old_definition, finding.new_definition
    if old is None or new is None:
        return []
    return sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key))


def finding_rows(findings: Sequence[DriftFinding], now: datetime) -> list[Row]:
    """One row per finding, in the order the backend gives them (waiting ones first)."""
    return [
        (
            finding_key(f),
            (
                Text("✓ approved", style="green")
                if f.approved_at
                else Text("● waiting", style="bold yellow"),
                Text(f.change.value, style=_CHANGE_STYLE[f.change]),
                _KIND.get(f.kind.value, f.kind.value),
                f.name,
                ", ".join(changed_fields(f)) or "—",
                ago(f.detected_at, now),
            ),
        )
        for f in findings
    ]


def report_head(report: DriftReport, now: datetime) -> Text:
    """Which version, its policy, its baseline, what the gateway holds back, what waits."""
    text = Text(f"{report.deployment} ", style="bold")
    text.append(f"({report.version})  policy: ")
    blocking = report.policy is DriftPolicy.BLOCK
    text.append(report.policy.value, style="bold red" if blocking else "bold")
    text.append(
        " (changed and new tools are held back)"
        if blocking
        else " (a change alerts; clients still see it)",
        style="dim",
    )
    if report.baseline_at is None:
        text.append("\nbaseline: not recorded yet (it has not served healthy through the gateway)")
    else:
        text.append(
            f"\nbaseline: {report.definitions} definition(s), recorded "
            f"{report.baseline_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC "
            f"({ago(report.baseline_at, now)})"
        )
    if report.blocked_tools:
        text.append("\nheld back from clients: ", style="bold red")
        text.append(", ".join(report.blocked_tools))
    count = len(waiting(report))
    if not report.findings:
        if report.baseline_at is not None:
            text.append("\nevery definition listed matches the approved one", style="green")
    elif count:
        text.append(f"\n{count} finding(s) wait for approval", style="bold yellow")
    else:
        text.append("\nevery finding is approved", style="green")
    return text


def finding_diff(finding: DriftFinding, now: datetime) -> Text:
    """What the finding is and its state, then the backend's diff, lines coloured by sign."""
    text = Text(f"{finding.change.value} ", style=f"bold {_CHANGE_STYLE[finding.change]}")
    text.append(f"{_KIND.get(finding.kind.value, finding.kind.value)} {finding.name}", style="bold")
    fields = changed_fields(finding)
    if fields:
        text.append(f" · fields: {', '.join(fields)}")
    text.append(f"\nfound {ago(finding.detected_at, now)} · ", style="dim")
    if finding.approved_at is not None:
        text.append(
            f"approved by {finding.approved_by} "
            f"{finding.approved_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
            style="green",
        )
    else:
        text.append("waiting for approval (a approves it)", style="yellow")
    text.append("\n\n")
    for line in finding.diff.splitlines():
        text.append(f"{line}\n", style=_line_style(line))
    text.rstrip()
    return text


def _line_style(line: str) -> str:
    if line.startswith(("---", "+++")):
        return "bold dim"
    if line.startswith("@@"):
        return "cyan"
    if line.startswith("+"):
        return "green"
    if line.startswith("-"):
        return "red"
    return ""
