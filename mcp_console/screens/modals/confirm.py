"""ConfirmModal: a yes/no question before anything that cannot be undone."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class ConfirmModal(ModalScreen[bool]):
    """Dismisses with ``True`` on ``y`` and ``False`` on ``n`` or ``esc``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="yes"),
        Binding("n,escape", "answer(False)", "No", id="no"),
    ]

    def __init__(self, question: str, detail: str = "", *, verb: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.detail = detail
        self.verb = verb

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="dialog"):
            yield Label(self.question, classes="dialog-title")
            if self.detail:
                yield Static(self.detail, id="confirm-detail")
            yield Label(f"y: {self.verb}    n / esc: cancel", classes="dialog-hint")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
