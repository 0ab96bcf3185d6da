"""Star ratings: a text rendering for tables and a focusable 1-5 picker for the review form."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

FULL = "★"
EMPTY = "☆"
MAX_STARS = 5


def stars(rating: float, count: int | None = None) -> str:
    """``rating`` (0-5) as five stars, rounded to the nearest whole; ``count`` 0 shows none."""
    if count == 0:
        return EMPTY * MAX_STARS
    full = max(0, min(MAX_STARS, round(rating)))
    return FULL * full + EMPTY * (MAX_STARS - full)


def rating_text(rating: float, count: int) -> Text:
    """Stars followed by the average and the number of ratings, e.g. ``★★★★☆ 4.2 (17)``."""
    text = Text(stars(rating, count), style="bold yellow")
    if count:
        text.append(f" {rating:.1f} ({count})", style="default")
    else:
        text.append(" no ratings", style="dim")
    return text


class StarPicker(Widget, can_focus=True):
    """Pick 1-5 stars with the digits or the arrow keys."""

    DEFAULT_CSS = """
    StarPicker {
        height: 1;
        width: auto;
        padding: 0 1;
    }
    StarPicker:focus {
        background: $boost;
        text-style: bold;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left,minus", "change(-1)", "Fewer stars", show=False),
        Binding("right,plus", "change(1)", "More stars", show=False),
        *(Binding(str(n), f"set({n})", f"{n} stars", show=False) for n in range(1, 6)),
    ]

    value: reactive[int] = reactive(0)
    """The chosen rating; 0 while none is chosen."""

    class Changed(Message):
        """The rating was changed."""

        def __init__(self, picker: StarPicker, value: int) -> None:
            super().__init__()
            self.picker = picker
            self.value = value

    def __init__(self, value: int = 0, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_reactive(StarPicker.value, value)

    def render(self) -> Text:
        text = Text(FULL * self.value, style="bold yellow")
        text.append(EMPTY * (MAX_STARS - self.value))
        text.append(f"  {self.value}/5" if self.value else "  choose 1-5", style="dim")
        return text

    def watch_value(self, value: int) -> None:
        self.post_message(self.Changed(self, value))

    def action_change(self, delta: int) -> None:
        self.value = max(1, min(MAX_STARS, self.value + delta))

    def action_set(self, value: int) -> None:
        self.value = value
