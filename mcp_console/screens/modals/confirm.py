"""ConfirmModal: a yes/no question before anything that cannot be undone."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class ConfirmModal(ModalScreen[bool]):
    """Dismisses with ``True`` on ``y`` or the verb's button, ``False`` on ``n``, ``esc`` or
    Cancel.

    Enter takes the highlighted button: the verb's at first, or Cancel's when ``default`` is
    False (for what cannot be undone); ←/→ and tab move the highlight.
    """

    DEFAULT_CSS = """
    ConfirmModal #confirm-buttons {
        height: auto;
        margin-top: 1;
    }
    ConfirmModal #confirm-buttons Button {
        margin-right: 2;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="yes"),
        Binding("n,escape", "answer(False)", "No", id="no"),
        Binding("left", "app.focus_previous", "Previous choice", show=False),
        Binding("right", "app.focus_next", "Next choice", show=False),
    ]

    def __init__(
        self, question: str, detail: str = "", *, verb: str = "Yes", default: bool = True
    ) -> None:
        super().__init__()
        self.question = question
        self.detail = detail
        self.verb = verb
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="dialog"):
            yield Label(self.question, classes="dialog-title")
            if self.detail:
                yield Static(self.detail, id="confirm-detail")
            with Horizontal(id="confirm-buttons"):
                yield Button(self.verb, id="confirm-yes", compact=True)
                yield Button("Cancel", id="confirm-no", compact=True)
            yield Label(
                f"enter: the highlighted    y: {self.verb}    n / esc: cancel",
                classes="dialog-hint",
            )

    def on_mount(self) -> None:
        self.query_one("#confirm-yes" if self.default else "#confirm-no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
