"""RatingHistogram: how many reviews gave each number of stars, as horizontal bars."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.widgets import Static

from mcp_console.widgets.stars import MAX_STARS, rating_text

BAR = "█"
BAR_WIDTH = 24


def histogram_lines(histogram: dict[int, int], width: int = BAR_WIDTH) -> list[Text]:
    """One line per star count, five stars first: ``5★ ██████████ 12``."""
    counts = {stars: int(histogram.get(stars, 0)) for stars in range(MAX_STARS, 0, -1)}
    most = max(counts.values(), default=0)
    lines = []
    for stars, count in counts.items():
        filled = round(width * count / most) if most else 0
        line = Text(f"{stars}★ ", style="bold yellow")
        line.append(BAR * filled, style="yellow")
        line.append("·" * (width - filled), style="dim")
        line.append(f" {count}")
        lines.append(line)
    return lines


class RatingHistogram(Static):
    """The average rating over a bar per star count."""

    DEFAULT_CSS = """
    RatingHistogram {
        height: auto;
        width: auto;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._average = 0.0
        self._histogram: dict[int, int] = {}

    def show(self, average: float, histogram: dict[int, int]) -> None:
        """Draw ``histogram`` (stars → count) under the ``average``."""
        self._average = average
        self._histogram = dict(histogram)
        self.update(self._renderable())

    def _renderable(self) -> RenderableType:
        total = sum(self._histogram.values())
        return Group(rating_text(self._average, total), *histogram_lines(self._histogram))
