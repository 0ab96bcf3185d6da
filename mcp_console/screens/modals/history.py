"""HistoryModal: every change of a deployment, newest first: who, when, what and why."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from mcp_console.schemas.deploy import HistoryEntry
from mcp_console.widgets.timefmt import ago


def changes_text(changes: dict[str, Any]) -> str:
    """``replicas=3, version=2.1.0``; nested values as they are."""
    return ", ".join(f"{key}={value}" for key, value in changes.items()) or "—"


def history_table(entries: Sequence[HistoryEntry], now: datetime) -> Table:
    """The entries as a table; changes the system made are marked ``auto``."""
    table = Table(box=None, header_style="bold", pad_edge=False, expand=True)
    table.add_column("When", no_wrap=True)
    table.add_column("Who", no_wrap=True)
    table.add_column("What", no_wrap=True, style="bold")
    table.add_column("Changes", ratio=2)
    table.add_column("Why", ratio=2)
    for entry in entries:
        who = Text(entry.actor)
        if entry.automatic:
            who.append(" (auto)", style="cyan")
        table.add_row(
            ago(entry.at, now),
            who,
            entry.action,
            Text(changes_text(entry.changes)),
            Text(entry.reason or "—", style="italic"),
        )
    return table


class HistoryModal(ModalScreen[None]):
    """Read-only; ``esc`` closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,h,q", "close", "Close", id="close"),
    ]

    def __init__(self, name: str, entries: Sequence[HistoryEntry], now: datetime) -> None:
        super().__init__()
        self.deployment = name
        self.entries = list(entries)
        self.now = now

    def compose(self) -> ComposeResult:
        with Vertical(id="history-dialog", classes="dialog"):
            yield Label(f"History of {self.deployment}", classes="dialog-title")
            with VerticalScroll(id="history-body"):
                yield Static(
                    history_table(self.entries, self.now)
                    if self.entries
                    else Text("Nothing has changed yet.", style="dim")
                )
            yield Label("esc: close    ↑/↓: scroll", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#history-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
