"""PromptModal: one line of text for an action that needs it (a deprecation message)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


class PromptModal(ModalScreen[str | None]):
    """Dismisses with the text typed (never blank), or ``None`` on ``esc``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    def __init__(self, title: str, label: str, *, field: str, placeholder: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.label = label
        self.field = field
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-dialog", classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Label(self.label, classes="field-label")
            yield Input(placeholder=self.placeholder, id="prompt-input", max_length=1000)
            yield Static("", id="prompt-error", classes="field-error")
            yield Label("enter: confirm    esc: cancel", classes="dialog-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            self.query_one("#prompt-error", Static).update(f"✗ {self.field}: must not be empty")
            event.input.add_class("-invalid")
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
