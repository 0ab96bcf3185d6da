"""The latency histogram of the metrics history: a bucket per request, percentiles from sums."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from mcp_console.backend.db.models_history import LATENCY_BOUNDS_MS

BUCKETS = len(LATENCY_BOUNDS_MS) + 1


def bucket_of(latency_ms: float) -> int:
    """The bucket that counts a request of ``latency_ms``: the first whose bound it does not
    exceed (the last one takes everything slower)."""
    return bisect_left(LATENCY_BOUNDS_MS, latency_ms)


def percentile(counts: Sequence[int], q: float) -> float | None:
    """The latency (ms) below which a share ``q`` (0..1) of the counted requests fell.

    Interpolated linearly inside the bucket it falls in, as Prometheus'
    ``histogram_quantile`` does; the slowest bucket reports its lower bound. ``None`` when
    nothing was counted.
    """
    total = sum(counts)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for index, count in enumerate(counts):
        if count and seen + count >= rank:
            if index == len(LATENCY_BOUNDS_MS):
                return float(LATENCY_BOUNDS_MS[-1])
            lower = LATENCY_BOUNDS_MS[index - 1] if index else 0.0
            upper = LATENCY_BOUNDS_MS[index]
            return lower + (upper - lower) * (rank - seen) / count
        seen += count
    return float(LATENCY_BOUNDS_MS[-1])
