"""AlertTargetModal: a new notification target; its secret is typed hidden and never shown."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, Label, Static

from mcp_console.schemas.alerts import TargetCreate, TargetView
from mcp_console.screens.modals.field_form import FieldFormModal

SubmitTarget = Callable[[TargetCreate], Awaitable[TargetView]]


class AlertTargetModal(FieldFormModal[TargetView]):
    """Dismisses with the target as the backend added it (its URL masked), or ``None``.

    Enter in a field or ctrl+s adds it; a refusal keeps what was typed and shows the reason
    under its field.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Add target", priority=True, id="save-target"),
    ]
    PREFIX = "target"
    FIELDS = ("name", "url", "secret")

    def __init__(self, submit: SubmitTarget) -> None:
        super().__init__()
        self._submit = submit

    def compose(self) -> ComposeResult:
        with Vertical(id="target-dialog", classes="dialog"):
            yield Label("New notification target", classes="dialog-title")
            yield Label("Name", classes="field-label")
            yield Input(placeholder="ops-hook", id="target-name", max_length=64, compact=True)
            yield Static("", id="target-name-error", classes="field-error")
            # Static, not Label: it wraps at the dialog's width.
            yield Static(
                "URL: https://… (a webhook), alertmanager://HOST:PORT, or an apprise URL "
                "(slack://…, mailto://…)",
                classes="field-label",
            )
            yield Input(
                placeholder="https://hooks.example.com/alerts",
                id="target-url",
                max_length=2000,
                compact=True,
            )
            yield Static("", id="target-url-error", classes="field-error")
            yield Static(
                "Secret (webhooks only, 16+ characters: requests are signed with it)",
                classes="field-label",
            )
            yield Input(
                placeholder="empty: unsigned",
                password=True,
                id="target-secret",
                max_length=256,
                compact=True,
            )
            yield Static("", id="target-secret-error", classes="field-error")
            yield Static("", id="target-error", classes="field-error")
            yield Label("enter / ctrl+s: add    tab: next    esc: cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#target-name", Input).focus()

    def draft(self) -> TargetCreate:
        """The target as typed; the backend checks it (the URL's kind, the secret's length)."""
        secret = self.query_one("#target-secret", Input).value
        return TargetCreate.model_construct(
            name=self.query_one("#target-name", Input).value.strip(),
            url=self.query_one("#target-url", Input).value.strip(),
            secret=secret or None,
        )

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        draft = self.draft()
        self.send(lambda: self._submit(draft))
