"""Pickers whose glyph, not only its colour, says what is picked: Choice (one of a row, the
arrows pick, enter confirms the form) and CheckList (any of a list, space or enter ticks)."""

from __future__ import annotations

from rich.segment import Segment
from textual.message import Message
from textual.strip import Strip
from textual.widgets import RadioButton, RadioSet, SelectionList


class ChoiceButton(RadioButton):
    """A radio button whose glyph, not only its colour, says whether it is the one picked."""

    def __init__(self, label: str, *, value: bool, name: str) -> None:
        super().__init__(label, value=value, name=name)
        self.BUTTON_INNER = _GLYPHS[value]

    def watch_value(self) -> None:
        self.BUTTON_INNER = _GLYPHS[self.value]
        super().watch_value()


_GLYPHS = {True: "●", False: " "}


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
        buttons = [ChoiceButton(label, value=v == picked, name=v) for v, label in options]
        super().__init__(*buttons, id=id, compact=True)

    def on_mount(self) -> None:
        # RadioSet highlights its first button as it mounts: start from the one picked, so
        # that an arrow moves on from it.
        self.call_later(self._highlight_picked)

    def _highlight_picked(self) -> None:
        self._selected = self._values.index(self.value)

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


class CheckList(SelectionList[str]):
    """A SelectionList whose ticked options show ``✓`` (its own box differs by colour only)."""

    def render_line(self, y: int) -> Strip:
        line = super().render_line(y)
        segments = list(line)
        index = self.scroll_offset.y + y
        if len(segments) < 3 or not 0 <= index < self.option_count:
            return line
        ticked = self.get_option_at_index(index).value in self.selected
        segments[1] = Segment("✓" if ticked else " ", segments[1].style)
        return Strip(segments, line.cell_length)
