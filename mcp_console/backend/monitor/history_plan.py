"""Which tiers of the metrics history answer a chart's range, and over which spans of time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from mcp_console.backend.monitor.history_recorder import RAW_TIER, bucket_start
from mcp_console.backend.monitor.history_store import TIERS
from mcp_console.schemas.monitor import HISTORY_STEPS, HistoryRange
from mcp_console.settings import MonitorSettings


@dataclass(frozen=True, slots=True)
class Segment:
    """Buckets of one tier, starting in ``[start, end)``."""

    tier: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class HistoryPlan:
    """A chart's points (``start`` to ``end`` by ``step``) and the rows that make them."""

    start: int
    end: int
    step: int
    segments: tuple[Segment, ...]

    @property
    def steps(self) -> range:
        """The start of every point."""
        return range(self.start, self.end, self.step)


def plan(
    period: HistoryRange, settings: MonitorSettings, watermarks: dict[int, int], now: float
) -> HistoryPlan:
    """The plan of a chart over ``period`` ending now.

    Its points come from the coarsest tier no wider than a step that keeps the whole range
    (a coarser one, with a wider step, where the settings keep too little): the fewest rows
    to read. That tier answers up to where it has been summed; the finer tiers answer what
    came since, each up to its own watermark, the 10-second tier up to now. The spans do
    not overlap, so every request counts once.
    """
    span, step = HISTORY_STEPS[period]
    keeps = dict(zip(TIERS, (settings.keep_10s, settings.keep_1m, settings.keep_1h), strict=True))
    fitting = [t for t in TIERS if t <= step] or [RAW_TIER]
    tier = fitting[-1]
    if keeps[tier] < timedelta(seconds=span):
        tier = next((t for t in TIERS if keeps[t] >= timedelta(seconds=span)), TIERS[-1])
        step = max(step, tier)
    end = bucket_start(now, step) + step
    start = end - span
    segments = []
    low = start
    for source in reversed([t for t in TIERS if t <= tier]):
        high = end if source == RAW_TIER else max(low, min(watermarks.get(source, 0), end))
        if high > low:
            segments.append(Segment(source, low, high))
        low = max(low, high)
    return HistoryPlan(start, end, step, tuple(segments))
