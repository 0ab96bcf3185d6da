"""ScaleModal: how many instances a deployment runs; the backend's objection is shown in place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, Static

from mcp_console.schemas.deploy import MAX_REPLICAS, DeploymentDetail
from mcp_console.screens.modals.submit import SubmitModal

SubmitScale = Callable[[int], Awaitable[DeploymentDetail]]


def autoscale_note(policy: dict[str, Any] | None) -> str:
    """A line about the autoscaler, which moves the count by itself within its bounds."""
    if not policy:
        return "Autoscaling is off: the count stays where you put it."
    low, high = policy.get("min_replicas"), policy.get("max_replicas")
    return f"Autoscaling is on: it keeps the count between {low} and {high}."


class ScaleModal(SubmitModal):
    """Dismisses with the deployment as scaled, or ``None`` when cancelled."""

    def __init__(
        self,
        name: str,
        replicas: int,
        submit: SubmitScale,
        autoscale: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.deployment = name
        self.replicas = replicas
        self._submit = submit
        self._autoscale = autoscale

    def compose(self) -> ComposeResult:
        with Vertical(id="scale-dialog", classes="dialog"):
            yield Label(f"Scale {self.deployment}", classes="dialog-title")
            yield Label(
                f"Replicas (0 to {MAX_REPLICAS}; it runs {self.replicas} now)",
                classes="field-label",
            )
            yield Input(str(self.replicas), type="integer", id="scale-replicas", max_length=3)
            yield Static(autoscale_note(self._autoscale), classes="dialog-hint")
            yield Static("", id="scale-error", classes="field-error")
            yield Label("enter: scale    esc: cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        field = self.query_one("#scale-replicas", Input)
        field.focus()
        field.select_all()

    def show_error(self, message: str | None) -> None:
        """Show why the count was refused and mark the field."""
        self.query_one("#scale-error", Static).update(f"✗ {message}" if message else "")
        self.query_one("#scale-replicas", Input).set_class(bool(message), "-invalid")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        try:
            replicas = int(text)
        except ValueError:
            self.show_error(f"replicas: a whole number from 0 to {MAX_REPLICAS}, not {text!r}")
            return
        if not 0 <= replicas <= MAX_REPLICAS:
            self.show_error(f"replicas: must be between 0 and {MAX_REPLICAS}, got {replicas}")
            return
        self.show_error(None)
        self.submit(lambda: self._submit(replicas))
