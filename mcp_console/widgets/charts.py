"""Live charts of a deployment: traffic, latency and errors per second, and each instance's use."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.containers import Grid
from textual_plotext import PlotextPlot

from mcp_console.schemas.monitor import DeploymentMetrics, InstanceUsage

WINDOW_SECONDS = 60
# Named ANSI colours: they survive a 16-colour terminal, and every line also has a label.
INSTANCE_COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "red")
# Below this height a chart drops its time axis: the plot itself matters more.
_AXIS_MIN_HEIGHT = 10
Point = tuple[float, float]


@dataclass(frozen=True)
class Series:
    """One line of a chart: seconds relative to now (≤ 0) against a value."""

    label: str
    points: tuple[Point, ...]
    color: str


def _second(at: datetime) -> int:
    return int(at.timestamp())


class UsageHistory:
    """What each instance used, sample by sample (the backend reports only the present).

    A sample taken at the same second as the previous one replaces it, so polling faster
    than the backend's clock moves never draws a flat run of duplicates.
    """

    def __init__(self, window: int = WINDOW_SECONDS) -> None:
        self.window = window
        self._samples: deque[tuple[int, dict[str, InstanceUsage]]] = deque()

    def __len__(self) -> int:
        return len(self._samples)

    def clear(self) -> None:
        """Forget every sample (another deployment is being watched)."""
        self._samples.clear()

    def add(self, at: datetime, usage: Sequence[InstanceUsage]) -> None:
        """Record ``usage`` as seen at ``at``."""
        second = _second(at)
        if self._samples and self._samples[-1][0] >= second:
            self._samples.pop()
        self._samples.append((second, {u.instance: u for u in usage}))
        while self._samples and self._samples[0][0] <= second - self.window:
            self._samples.popleft()

    def series(self, value: Callable[[InstanceUsage], float | None]) -> list[Series]:
        """One line per instance of ``value`` over the window, newest sample at 0."""
        if not self._samples:
            return []
        newest = self._samples[-1][0]
        names: list[str] = []
        for _, by_name in self._samples:
            names += [n for n in by_name if n not in names]
        lines: list[Series] = []
        for index, name in enumerate(names):
            points: list[Point] = []
            for second, by_name in self._samples:
                usage = by_name.get(name)
                figure = value(usage) if usage is not None else None
                if figure is not None:
                    points.append((float(second - newest), figure))
            colour = INSTANCE_COLOURS[index % len(INSTANCE_COLOURS)]
            lines.append(Series(name, tuple(points), colour))
        return lines


def traffic_series(metrics: DeploymentMetrics, now: datetime) -> dict[str, list[Series]]:
    """The per-second traffic lines of ``metrics``, keyed by chart.

    Seconds the backend did not report had no requests: they count as zero requests, and
    have no latency or error rate at all (a gap, not a zero).
    """
    newest = _second(now)
    by_second = {_second(p.at): p for p in metrics.points}
    requests: list[Point] = []
    p50: list[Point] = []
    p95: list[Point] = []
    errors: list[Point] = []
    for offset in range(-metrics.window_s + 1, 1):
        point = by_second.get(newest + offset)
        x = float(offset)
        requests.append((x, float(point.requests if point else 0)))
        if point is None or not point.requests:
            continue
        errors.append((x, 100.0 * point.errors / point.requests))
        if point.p50_ms is not None:
            p50.append((x, point.p50_ms))
        if point.p95_ms is not None:
            p95.append((x, point.p95_ms))
    return {
        "requests": [Series("req/s", tuple(requests), "cyan")] if metrics.points else [],
        "latency": [
            Series("p50", tuple(p50), "green"),
            Series("p95", tuple(p95), "yellow"),
        ]
        if p50 or p95
        else [],
        "errors": [Series("errors %", tuple(errors), "red")] if errors else [],
    }


def _ceiling(value: float, floor: float) -> float:
    """A round upper bound a little above ``value`` (and at least ``floor``)."""
    top = max(value * 1.2, floor)
    for step in (
        1,
        2,
        3,
        4,
        5,
        10,
        20,
        30,
        40,
        50,
        100,
        200,
        300,
        400,
        500,
        1000,
        2000,
        5000,
        10_000,
    ):
        if top <= step:
            return float(step)
    return float(int(top) + 1)


class Chart(PlotextPlot):
    """One titled plot; its legend is its title, so lines are told apart without colour too."""

    DEFAULT_CSS = """
    Chart {
        height: 1fr;
        min-height: 5;
        border-top: solid $primary-muted;
        border-title-align: left;
        border-title-color: $text;
    }
    """

    def __init__(self, title: str, *, floor: float = 1.0, id: str | None = None) -> None:
        super().__init__(id=id)
        self.caption = title
        self.floor = floor
        self.border_title = title
        self.series: tuple[Series, ...] = ()
        self.empty_text = "no data yet"
        self.span = WINDOW_SECONDS

    def show(
        self, series: Sequence[Series], empty_text: str = "no data yet", span: int = WINDOW_SECONDS
    ) -> None:
        """Draw ``series`` over the last ``span`` seconds (redrawn only when something
        changed)."""
        wanted = tuple(s for s in series if s.points)
        if wanted == self.series and empty_text == self.empty_text and span == self.span:
            return
        self.series = wanted
        self.empty_text = empty_text
        self.span = span
        legend = "  ".join(f"[{s.color}]━[/] {_markup(s.label)}" for s in wanted)
        self.border_title = f"{self.caption}  {legend}" if len(wanted) > 1 else self.caption
        self.refresh()

    def render(self) -> RenderResult:
        if not self.series:
            return Text(self.empty_text, style="dim italic", justify="center")
        plt = self.plt
        plt.clear_data()
        top = 0.0
        for line in self.series:
            xs = [x for x, _ in line.points]
            ys = [y for _, y in line.points]
            top = max(top, *ys)
            plt.plot(xs, ys, marker="braille", color=line.color)
        ceiling = _ceiling(top, self.floor)
        plt.xlim(-self.span, 0)
        plt.ylim(0, ceiling)
        plt.frame(False)
        plt.yaxes(True, False)
        plt.yticks([0, ceiling / 2, ceiling], ["0", f"{ceiling / 2:g}", f"{ceiling:g}"])
        if self.size.height >= _AXIS_MIN_HEIGHT:
            half = self.span / 2
            plt.xaxes(True, False)
            plt.xticks([-self.span, -half, 0], [back(self.span), back(half), "now"])
        else:
            plt.xaxes(False, False)
            plt.xticks([])
        return super().render()


def back(seconds: float) -> str:
    """A time before now as an axis label: ``-60s``, ``-7.5m``, ``-24h``, ``-3.5d``."""
    if seconds > 86400:
        return f"-{seconds / 86400:g}d"
    if seconds >= 3600:
        return f"-{seconds / 3600:g}h"
    if seconds > 60:
        return f"-{seconds / 60:g}m"
    return f"-{seconds:g}s"


def _markup(text: str) -> str:
    return text.replace("[", r"\[")


class LiveCharts(Grid, can_focus=True):
    """Requests/s, latency, error rate, and in-flight requests, CPU and memory per instance."""

    DEFAULT_CSS = """
    LiveCharts {
        grid-size: 3 2;
        grid-gutter: 0 1;
        height: 1fr;
        &:focus {
            background-tint: $foreground 5%;
        }
    }
    """

    def compose(self) -> ComposeResult:
        yield Chart("Requests/s", id="chart-requests")
        yield Chart("Latency ms", id="chart-latency")
        yield Chart("Errors %", floor=5.0, id="chart-errors")
        yield Chart("In flight", id="chart-inflight")
        yield Chart("CPU %", floor=5.0, id="chart-cpu")
        yield Chart("Memory MB", floor=10.0, id="chart-memory")

    def show(self, metrics: DeploymentMetrics, history: UsageHistory, now: datetime) -> None:
        """Draw the traffic of ``metrics`` (relative to ``now``) and the instances' history."""
        traffic = traffic_series(metrics, now)
        quiet = "no requests in the last minute"
        self.query_one("#chart-requests", Chart).show(traffic["requests"], quiet)
        self.query_one("#chart-latency", Chart).show(traffic["latency"], quiet)
        self.query_one("#chart-errors", Chart).show(traffic["errors"], quiet)
        idle = "no instance is running"
        self.query_one("#chart-inflight", Chart).show(
            history.series(lambda u: float(u.in_flight)), idle
        )
        self.query_one("#chart-cpu", Chart).show(history.series(lambda u: u.cpu_percent), idle)
        self.query_one("#chart-memory", Chart).show(history.series(lambda u: u.memory_mb), idle)

    def show_lines(self, lines: dict[str, list[Series]], span: int, empty_text: str) -> None:
        """Draw prepared lines (a history) over ``span`` seconds, keyed by chart
        (``requests``, ``latency``, ``errors``, ``inflight``, ``cpu``, ``memory``)."""
        for chart in self.query(Chart):
            key = (chart.id or "").removeprefix("chart-")
            chart.show(lines.get(key, []), empty_text, span)

    def clear(self, text: str) -> None:
        """Empty every chart, saying why."""
        for chart in self.query(Chart):
            chart.show([], text)
