"""The audit view's rows, the highlighted event in brief, and an event in full (JSON)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, timedelta
from typing import Any

from rich.text import Text

from mcp_console.schemas.audit import ARGUMENTS, ARGUMENTS_DIGEST, TOOL_CALL, AuditEntry
from mcp_console.widgets.columns import Column
from mcp_console.widgets.live_table import Row

AUDIT_COLUMNS = (
    Column("Time", "time", cut=False),
    Column("Actor", "actor", least=6, most=16),
    Column("Via", "via", cut=False, hide=2),
    Column("Kind", "kind", least=18, most=26),
    Column("Target", "target", least=8, most=24),
    Column("Deployment", "deployment", least=8, most=20, hide=1),
    Column("Outcome / detail", "detail", least=16, grow=True),
)

# The steps ``t`` goes through: how far back the listing reaches (``None``: all that is kept).
SINCE_STEPS: tuple[tuple[str, timedelta | None], ...] = (
    ("any time", None),
    ("1h", timedelta(hours=1)),
    ("24h", timedelta(hours=24)),
    ("7d", timedelta(days=7)),
    ("30d", timedelta(days=30)),
)


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def outcome_text(entry: AuditEntry) -> Text:
    """A tool call's outcome and latency (red when it failed); a change's ``key=value`` pairs."""
    detail = entry.detail
    if entry.kind == TOOL_CALL:
        outcome = str(detail.get("outcome", "?"))
        text = Text(outcome, style="green" if outcome == "ok" else "bold red")
        latency = detail.get("latency_ms")
        if isinstance(latency, int | float):
            text.append(f" · {latency:.0f} ms", style="dim")
        # What its deployment's policy kept of the arguments (all of it in the full event).
        if isinstance(digest := detail.get(ARGUMENTS_DIGEST), str):
            text.append(f" · args sha256 {digest[:12]}", style="dim")
        elif ARGUMENTS in detail:
            text.append(f" · {_value(detail[ARGUMENTS])}", style="dim")
        return text
    return Text(" ".join(f"{key}={_value(value)}" for key, value in detail.items()) or "—")


def audit_rows(entries: Sequence[AuditEntry]) -> list[Row]:
    """One row per event, keyed by its id, in the order given (newest first)."""
    return [
        (
            str(entry.id),
            (
                f"{entry.at.astimezone(UTC):%m-%d %H:%M:%S}",
                entry.actor,
                entry.via or "auto",
                entry.kind,
                entry.target or "—",
                entry.deployment or "—",
                outcome_text(entry),
            ),
        )
        for entry in entries
    ]


def entry_summary(entry: AuditEntry) -> Text:
    """The highlighted event in two lines: what happened to what, by whom from where; when,
    and the outcome."""
    text = Text(entry.kind, style="bold")
    text.append(f" {entry.target or '—'}")
    if entry.deployment and entry.deployment != entry.target:
        text.append(f" on {entry.deployment}")
    text.append(" · ")
    text.append(entry.actor, style="bold")
    text.append(f" via {entry.via}" if entry.via else " (automatic)")
    text.append(f"\n{entry.at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC · #{entry.id} · ", style="dim")
    text.append_text(outcome_text(entry))
    text.append(" · enter: the whole event", style="dim")
    return text


def entry_json(entry: AuditEntry) -> str:
    """The event as the API gives it, indented (the backend never records a secret value)."""
    return json.dumps(entry.model_dump(mode="json"), indent=2, ensure_ascii=False)
