"""SilenceModal: how long to mute an alert's notifications (its rule on its deployment)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import ValidationError
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from mcp_console.durations import EXAMPLES, read_duration
from mcp_console.schemas.alerts import SilenceCreate

DEFAULT_DURATION = "1h"
# What the backend accepts (SilenceCreate.duration_s), said in words before it is asked.
MIN_SECONDS, MAX_SECONDS = 60, 90 * 86400


class SilenceModal(ModalScreen[SilenceCreate | None]):
    """Dismisses with the silence to add (``matchers`` as given), or ``None`` on ``esc``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    def __init__(self, title: str, matchers: dict[str, str]) -> None:
        super().__init__()
        self.title_text = title
        self.matchers = matchers

    def compose(self) -> ComposeResult:
        with Vertical(id="silence-dialog", classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(
                "Mutes the notifications of alerts with "
                + ", ".join(f"{k}={v}" for k, v in self.matchers.items()),
                classes="dialog-hint",
            )
            yield Label(f"For how long ({EXAMPLES})", classes="field-label")
            yield Input(DEFAULT_DURATION, id="silence-duration", max_length=8)
            yield Label("Why (optional)", classes="field-label")
            yield Input(id="silence-comment", max_length=500)
            yield Static("", id="silence-error", classes="field-error")
            yield Label("enter: silence    esc: cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        field = self.query_one("#silence-duration", Input)
        field.focus()
        field.select_all()

    def show_error(self, message: str | None) -> None:
        """Say why the duration is refused, and mark the field."""
        self.query_one("#silence-error", Static).update(f"✗ {message}" if message else "")
        self.query_one("#silence-duration", Input).set_class(bool(message), "-invalid")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = self.query_one("#silence-duration", Input).value.strip()
        duration = read_duration(text)
        if duration is None:
            self.show_error(f"duration: a duration such as {EXAMPLES}, not {text!r}")
            self.query_one("#silence-duration", Input).focus()
            return
        seconds = int(duration.total_seconds())
        if not MIN_SECONDS <= seconds <= MAX_SECONDS:
            self.show_error(f"duration: from 1 minute to 90 days, not {text}")
            return
        try:
            silence = SilenceCreate(
                matchers=self.matchers,
                duration_s=seconds,
                comment=self.query_one("#silence-comment", Input).value.strip(),
            )
        except ValidationError as error:
            problem = error.errors()[0]
            where = ".".join(str(part) for part in problem["loc"])
            self.show_error(f"{where}: {problem['msg']}".replace("duration_s", "duration"))
            return
        self.dismiss(silence)

    def action_cancel(self) -> None:
        self.dismiss(None)
