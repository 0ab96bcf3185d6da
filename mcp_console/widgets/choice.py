"""Choice: a row of exclusive options where the arrows pick, and enter confirms the form."""

from __future__ import annotations

from textual.message import Message
from textual.widgets import RadioButton, RadioSet


class Choice(RadioSet):
    """A compact radio row: ←/→ move *and* pick (no separate press that a user could miss
    before tabbing away); enter or space posts ``Confirmed`` so a dialog can act on it.

    Args:
        options: ``(value, label)`` pairs, left to right.
        value: the option picked at first (default: the first).
        id: the widget's id.
    """

    DEFAULT_CSS = """
    Choice {
        layout: horizontal;
        width: auto;
        height: 1;
    }
    Choice > RadioButton {
        width: auto;
        margin-right: 2;
    }
    """

    class Confirmed(Message):
        """Enter (or space) on the choice: the dialog's main action should run."""

        def __init__(self, choice: Choice) -> None:
            super().__init__()
            self.choice = choice

        @property
        def control(self) -> Choice:
            """The choice confirmed."""
            return self.choice

    def __init__(
        self, options: list[tuple[str, str]], value: str | None = None, *, id: str | None = None
    ) -> None:
        self._values = [v for v, _ in options]
        picked = value if value in self._values else self._values[0]
        buttons = [RadioButton(label, value=v == picked, name=v) for v, label in options]
        super().__init__(*buttons, id=id, compact=True)

    @property
    def value(self) -> str:
        """The option picked."""
        pressed = self.pressed_button
        return pressed.name if pressed is not None and pressed.name else self._values[0]

    @value.setter
    def value(self, wanted: str) -> None:
        for button in self.query(RadioButton):
            if button.name == wanted:
                button.value = True

    def action_next_button(self) -> None:
        super().action_next_button()
        self._pick()

    def action_previous_button(self) -> None:
        super().action_previous_button()
        self._pick()

    def _pick(self) -> None:
        # RadioSet moves its highlight once while mounting: only a user's move picks.
        if self.has_focus:
            super().action_toggle_button()

    def action_toggle_button(self) -> None:
        self.post_message(self.Confirmed(self))
