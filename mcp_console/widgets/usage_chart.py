"""DailyUsage: billable calls per day as bars, the first, middle and last day on the axis."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

# Below this height the day axis goes: the bars matter more.
_AXIS_MIN_HEIGHT = 6


class DailyUsage(PlotextPlot):
    """Calls per day of a billing period (days without calls drawn as nothing, not skipped)."""

    DEFAULT_CSS = """
    DailyUsage {
        height: 1fr;
        min-height: 4;
        border-top: solid $primary-muted;
        border-title-align: left;
        border-title-color: $text;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Calls per day"
        self.days: tuple[tuple[str, int], ...] = ()

    def show(self, days: Sequence[tuple[str, int]]) -> None:
        """Draw ``days`` (``YYYY-MM-DD``, calls), redrawn only when they changed."""
        wanted = tuple(days)
        if wanted == self.days:
            return
        self.days = wanted
        busiest = max((calls for _, calls in wanted), default=0)
        self.border_title = f"Calls per day  (most: {busiest:,})" if busiest else "Calls per day"
        self.refresh()

    def render(self) -> RenderResult:
        if not any(calls for _, calls in self.days):
            return Text("no billable calls in this period", style="dim italic", justify="center")
        plt = self.plt
        plt.clear_data()
        xs = list(range(len(self.days)))
        plt.bar(xs, [calls for _, calls in self.days], marker="█", color="cyan", width=0.6)
        plt.frame(False)
        plt.yaxes(True, False)
        top = max(calls for _, calls in self.days)
        plt.ylim(0, top)
        plt.yticks([0, top], ["0", f"{top:,}"])
        if self.size.height >= _AXIS_MIN_HEIGHT:
            ends = sorted({0, len(xs) // 2, len(xs) - 1})
            plt.xaxes(True, False)
            plt.xticks([float(i) for i in ends], [self.days[i][0][5:] for i in ends])
        else:
            plt.xaxes(False, False)
            plt.xticks([])
        return super().render()
