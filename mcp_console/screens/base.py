"""What every screen shares: the client and clock it is given, and one way to report errors."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from textual.screen import Screen

from mcp_console.client.protocol import ConsoleClient
from mcp_console.client.server_inspector import ServerInspector
from mcp_console.schemas.errors import ConsoleError, Unauthorized, Unavailable
from mcp_console.screens.modals.error import ErrorModal

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsoleContext:
    """Handed to every screen by the app: the backend client, the clock to show times by, and
    what opens sessions with servers named by URL or command (``None``: the console offers
    none)."""

    client: ConsoleClient
    clock: Callable[[], datetime]
    inspector: ServerInspector | None = None


def describe(error: BaseException) -> str:
    """A backend error as one sentence for a person (the field named when there is one)."""
    if isinstance(error, ConsoleError):
        if error.field and error.field not in error.message:
            return f"{error.message} (field: {error.field})"
        return error.message
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


class ConsoleScreen(Screen[None]):
    """A screen that talks to the backend only from workers and reports what goes wrong."""

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__()
        self.context = context

    @property
    def client(self) -> ConsoleClient:
        """The backend client."""
        return self.context.client

    def report(self, error: BaseException, doing: str) -> None:
        """Tell the user that ``doing`` failed and why; the app carries on either way.

        Domain errors become a notification; a backend that cannot be reached, or a failure
        nobody expected, opens the error modal so it cannot be missed.
        """
        if isinstance(error, Unavailable | Unauthorized) or not isinstance(error, ConsoleError):
            if not isinstance(error, ConsoleError):
                logger.exception("%s failed", doing, exc_info=error)
            self.app.push_screen(ErrorModal(f"Could not {doing}", describe(error)))
            return
        self.notify(describe(error), title=f"Could not {doing}", severity="error", timeout=8)
