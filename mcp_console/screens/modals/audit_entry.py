"""AuditEntryModal: one audit event in full, as JSON."""

from __future__ import annotations

from typing import ClassVar

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from mcp_console.schemas.audit import AuditEntry
from mcp_console.widgets.audit_rows import entry_json


class AuditEntryModal(ModalScreen[None]):
    """Read-only; ``esc`` or ``enter`` closes it."""

    DEFAULT_CSS = """
    #audit-entry-dialog {
        width: 100;
        height: 80%;
    }
    #audit-entry-body {
        height: 1fr;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "close", "Close", id="close"),
    ]

    def __init__(self, entry: AuditEntry) -> None:
        super().__init__()
        self.entry = entry

    def compose(self) -> ComposeResult:
        entry = self.entry
        with Vertical(id="audit-entry-dialog", classes="dialog"):
            yield Label(f"Audit event #{entry.id}: {entry.kind}", classes="dialog-title")
            with VerticalScroll(id="audit-entry-body"):
                yield Static(
                    Syntax(entry_json(entry), "json", theme="ansi_dark", word_wrap=True),
                    id="audit-entry-json",
                )
            yield Label("esc: close    ↑/↓: scroll", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#audit-entry-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
