"""The monitor over a range: its choices (range, breakdown), the history as chart lines, and
the per-tool table."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text

from mcp_console.schemas.monitor import (
    HISTORY_STEPS,
    HistoryPoint,
    HistoryRange,
    HistorySeries,
    MetricsHistory,
    ToolFigures,
)
from mcp_console.widgets.badges import millis, percent
from mcp_console.widgets.charts import INSTANCE_COLOURS, Point, Series
from mcp_console.widgets.columns import Column
from mcp_console.widgets.live_table import Row

LIVE = "live"
# What `t` steps through: the live minute, then the kept history's ranges.
RANGES: tuple[str, ...] = (LIVE, *(r.value for r in HistoryRange))
# What `b` steps through (``None``: the total only).
BREAKDOWNS: tuple[str | None, ...] = (None, "instance", "tool", "user")
# The range the per-tool table covers while the charts are live.
LIVE_TOOLS_RANGE = HistoryRange.MINUTES_15.value

TOOL_COLUMNS = (
    Column("Tool", "tool", least=10, grow=True),
    Column("Calls", "calls", justify="right", cut=False),
    Column("Errors", "errors", justify="right", cut=False),
    Column("Error %", "rate", justify="right", cut=False, hide=2),
    Column("p50", "p50", justify="right", cut=False, hide=1),
    Column("p95", "p95", justify="right", cut=False),
    Column("p99", "p99", justify="right", cut=False, hide=3),
)


def step(choices: Sequence[str | None], current: str | None, delta: int) -> str | None:
    """The choice ``delta`` places after ``current``, round the end."""
    return choices[(choices.index(current) + delta) % len(choices)]


def span_of(period: str) -> int:
    """How many seconds a history range reaches back."""
    return HISTORY_STEPS[HistoryRange(period)][0]


def choice_text(period: str, by: str | None) -> str:
    """``last 60 s`` live, ``24h · by tool`` over a range."""
    if period == LIVE:
        return "last 60 s"
    return f"{period} · {'by ' + by if by else 'total'}"


def _line(
    series: HistorySeries,
    end: float,
    value: Callable[[HistoryPoint], float | None],
    label: str,
    colour: str,
) -> Series:
    points: list[Point] = []
    for point in series.points:
        figure = value(point)
        if figure is not None:
            points.append((point.at.timestamp() - end, figure))
    return Series(label, tuple(points), colour)


def _errors(point: HistoryPoint) -> float | None:
    return 100.0 * point.errors / point.requests if point.requests else None


def history_series(history: MetricsHistory) -> dict[str, list[Series]]:
    """Chart lines of ``history``, keyed like the live charts (x: seconds before its end).

    The total alone draws p50 and p95; a breakdown draws one line per key (p95 for
    latency). Instance figures are drawn per instance when split by instance, else as the
    total; a breakdown by tool or user has none of its own.
    """
    end = history.end.timestamp()
    step_s = history.step_s

    def rate(point: HistoryPoint) -> float:
        return point.requests / step_s

    if history.breakdown:
        lines = [
            (s, s.key, INSTANCE_COLOURS[i % len(INSTANCE_COLOURS)])
            for i, s in enumerate(history.breakdown)
        ]
        requests = [_line(s, end, rate, k, c) for s, k, c in lines]
        latency = [_line(s, end, lambda p: p.p95_ms, k, c) for s, k, c in lines]
        errors = [_line(s, end, _errors, k, c) for s, k, c in lines]
    else:
        total = history.total
        requests = [_line(total, end, rate, "req/s", "cyan")]
        latency = [
            _line(total, end, lambda p: p.p50_ms, "p50", "green"),
            _line(total, end, lambda p: p.p95_ms, "p95", "yellow"),
        ]
        errors = [_line(total, end, _errors, "errors %", "red")]
    by_instance = [(s, s.key) for s in history.breakdown] if history.by == "instance" else []
    gauges = by_instance or [(history.total, "all")]

    def gauge(value: Callable[[HistoryPoint], float | None]) -> list[Series]:
        return [
            _line(s, end, value, key, INSTANCE_COLOURS[i % len(INSTANCE_COLOURS)])
            for i, (s, key) in enumerate(gauges)
        ]

    return {
        "requests": requests,
        "latency": latency,
        "errors": errors,
        "inflight": gauge(lambda p: None if p.in_flight_max is None else float(p.in_flight_max)),
        "cpu": gauge(lambda p: p.cpu_percent),
        "memory": gauge(lambda p: p.memory_mb),
    }


def tool_rows(tools: Sequence[ToolFigures]) -> list[Row]:
    """One row per tool, the busiest first, keyed by its name."""
    return [
        (
            tool.tool,
            (
                Text(tool.tool, style="bold"),
                f"{tool.calls:,}",
                Text(f"{tool.errors:,}", style="red" if tool.errors else ""),
                percent(tool.errors / tool.calls if tool.calls else None),
                millis(tool.p50_ms),
                millis(tool.p95_ms),
                millis(tool.p99_ms),
            ),
        )
        for tool in sorted(tools, key=lambda t: (-t.calls, t.tool))
    ]
