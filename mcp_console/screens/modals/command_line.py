"""CommandLine: ``:`` then a screen's name (k9s-style), e.g. ``:market`` or ``:dev``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Static


class CommandLine(ModalScreen[str | None]):
    """Dismisses with the command a name resolves to, or ``None`` on ``esc``.

    ``commands`` maps every accepted word (names and aliases) to the command it runs.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    def __init__(self, commands: Mapping[str, str]) -> None:
        super().__init__()
        self.commands = dict(commands)

    def compose(self) -> ComposeResult:
        with Vertical(id="command-line"):
            yield Static("", id="command-error", classes="field-error")
            yield Input(
                placeholder="market, dev, help, quit…",
                suggester=SuggestFromList(sorted(self.commands), case_sensitive=False),
                id="command-input",
            )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        word = event.value.strip().lstrip(":").strip().lower()
        if not word:
            self.dismiss(None)
            return
        command = self.commands.get(word)
        if command is None:
            matches = sorted({c for name, c in self.commands.items() if name.startswith(word)})
            command = matches[0] if len(matches) == 1 else None
        if command is None:
            names = ", ".join(sorted(set(self.commands.values())))
            self.query_one("#command-error", Static).update(
                f"✗ no screen or command called {word!r}; try: {names}"
            )
            return
        self.dismiss(command)

    def action_cancel(self) -> None:
        self.dismiss(None)
