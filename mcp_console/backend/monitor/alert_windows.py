"""Which tiers of the metrics history answer an alert rule's window, over which spans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from mcp_console.backend.monitor.history_plan import Segment

# A coarser tier answers part of a window only when the window holds this many of its
# buckets: a 5-minute window reads minutes, a 2-minute one its 10-second buckets.
MIN_BUCKETS = 5


@dataclass(frozen=True, slots=True)
class Tier:
    """A resolution of the history and how far back it reaches."""

    width_s: int
    keeps: timedelta


def window_spans(
    window_s: int, now: int, tiers: tuple[Tier, ...], watermarks: dict[int, int]
) -> tuple[Segment, ...]:
    """The spans, one tier each, that together hold the buckets starting in the window
    ``[now - window_s, now]``, each bucket once.

    The coarsest tier that fits answers the whole buckets it has been summed into; the
    finer ones answer the edges: the start of the window inside a coarse bucket, and what
    came after the coarse tier's watermark. An hour is read as 60 minutes and a few
    10-second buckets at each end instead of 360 buckets: the sums are the same (the tiers
    are exact), the rows fewer. Only tiers that still keep the window's start are used.
    """
    keeping = sorted(t.width_s for t in tiers if t.keeps >= timedelta(seconds=window_s))
    if not keeping:
        keeping = [max(t.width_s for t in tiers)]
    usable = [w for w in keeping if w == keeping[0] or w * MIN_BUCKETS <= window_s]
    return tuple(_cover(now - window_s, now + 1, usable, watermarks))


def _cover(start: int, end: int, usable: list[int], watermarks: dict[int, int]) -> list[Segment]:
    """Segments for buckets starting in ``[start, end)``, the coarsest of ``usable`` first."""
    if end <= start:
        return []
    width = usable[-1]
    if len(usable) == 1:
        return [Segment(width, start, end)]
    low = -(-start // width) * width  # the first whole bucket
    high = min(watermarks.get(width, 0), end // width * width)  # summed and begun
    if high <= low:
        return _cover(start, end, usable[:-1], watermarks)
    finer = usable[:-1]
    return [
        *_cover(start, low, finer, watermarks),
        Segment(width, low, high),
        *_cover(high, end, finer, watermarks),
    ]
