"""SubmitModal: a dialog that sends one change and closes on success, or says why not."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from textual import work
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen

from mcp_console.schemas.deploy import DeploymentDetail
from mcp_console.schemas.errors import ConsoleError


class SubmitModal(ModalScreen[DeploymentDetail | None]):
    """Dismisses with the deployment as changed, or ``None`` when cancelled; a refusal keeps
    the dialog open with the backend's reason (``show_error``)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    def show_error(self, message: str | None) -> None:
        """Show (or clear) why the change was refused."""
        raise NotImplementedError

    @work(exclusive=True, group="modal-submit", exit_on_error=False)
    async def submit(self, change: Callable[[], Awaitable[DeploymentDetail]]) -> None:
        """Send ``change``; close with its result, or stay with the reason it failed."""
        try:
            changed = await change()
        except ConsoleError as error:
            self.show_error(error.message)
            return
        except Exception as error:  # the dialog stays open with the reason
            self.show_error(f"{type(error).__name__}: {error}")
            return
        self.dismiss(changed)

    def action_cancel(self) -> None:
        self.dismiss(None)
