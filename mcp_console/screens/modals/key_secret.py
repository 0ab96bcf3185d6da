"""KeySecretModal: a new key's secret, shown this once, with a way to copy it."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from mcp_console.schemas.users import KeyCreated
from mcp_console.widgets.key_rows import expiry_text, scope_text


class KeySecretModal(ModalScreen[None]):
    """The one place a key's secret ever shows; closing forgets it.

    ``c`` copies it to the clipboard (through the terminal); enter or esc closes.
    """

    DEFAULT_CSS = """
    KeySecretModal #key-secret {
        border: round $success;
        padding: 0 1;
        text-style: bold;
        height: auto;
    }
    KeySecretModal #key-warning {
        color: $text-warning;
        text-style: bold;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "copy", "Copy", id="copy-key"),
        Binding("enter,escape", "close", "Done", id="close"),
    ]

    def __init__(self, created: KeyCreated, now: datetime) -> None:
        super().__init__()
        self._created: KeyCreated | None = created
        self._now = now

    def compose(self) -> ComposeResult:
        assert self._created is not None
        key = self._created.key
        with Vertical(id="key-secret-dialog", classes="dialog"):
            yield Label(f"Key {key.name!r} created", classes="dialog-title")
            yield Static(
                "Copy it now: it will not be shown again (only its prefix is kept in clear).",
                id="key-warning",
            )
            yield Static(Text(self._created.api_key), id="key-secret")
            expiry = expiry_text(key, self._now)
            yield Static(
                f"It reaches {scope_text(key)}; "
                + ("it never expires." if expiry == "never" else f"it expires {expiry}.")
                + "\nClients send it as: Authorization: Bearer <key>; the CLI reads it from "
                "MCP_CONSOLE_API_KEY.",
                id="key-use",
            )
            yield Static("", id="key-copied", classes="dialog-hint")
            yield Label("c: copy to the clipboard    enter / esc: done", classes="dialog-hint")

    def action_copy(self) -> None:
        if self._created is not None:
            self.app.copy_to_clipboard(self._created.api_key)
            self.query_one("#key-copied", Static).update(
                "Sent to the clipboard (a terminal without clipboard access ignores it: "
                "select the key with the mouse instead)."
            )

    def action_close(self) -> None:
        # Nothing keeps the secret once the dialog is gone.
        self._created = None
        self.query_one("#key-secret", Static).update("")
        self.dismiss(None)
