"""PickDeploymentModal: choose which deployment the monitor watches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from mcp_console.schemas.deploy import DeploymentView
from mcp_console.widgets.badges import deployment_badge


class PickDeploymentModal(ModalScreen[str | None]):
    """Dismisses with the chosen deployment's address, or ``None`` on ``esc``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    def __init__(self, deployments: Sequence[DeploymentView], current: str | None) -> None:
        super().__init__()
        self.deployments = list(deployments)
        self.current = current

    def compose(self) -> ComposeResult:
        options = []
        for d in self.deployments:
            label = Text(f"{d.address}  ", style="bold")
            label.append_text(deployment_badge(d.status))
            label.append(f"  {d.service} {d.version}", style="dim")
            options.append(Option(label, id=d.address))
        with Vertical(id="pick-dialog", classes="dialog"):
            yield Label("Watch which deployment?", classes="dialog-title")
            yield OptionList(*options, id="pick-deployments")
            yield Label("enter: watch    esc: cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        names = [d.address for d in self.deployments]
        options.highlighted = names.index(self.current) if self.current in names else 0
        options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
