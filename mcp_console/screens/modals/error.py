"""ErrorModal: a backend failure that must not go unnoticed."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class ErrorModal(ModalScreen[None]):
    """Shows what failed and why; ``esc`` or ``enter`` closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "close", "Close", id="close"),
    ]

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self.title_text = title
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="error-dialog", classes="dialog -error"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(self.message, id="error-message")
            yield Label("esc or enter to close", classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)
