"""The latency histogram of the metrics history: a bucket per request, percentiles from sums."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from mcp_console.backend.db.models_history import LATENCY_BOUNDS_MS

BUCKETS = len(LATENCY_BOUNDS_MS) + 1
# The percentiles a chart shows: p50, p95, p99.
SHOWN = (0.5, 0.95, 0.99)


def bucket_of(latency_ms: float) -> int:
    """The bucket that counts a request of ``latency_ms``: the first whose bound it does not
    exceed (the last one takes everything slower)."""
    return bisect_left(LATENCY_BOUNDS_MS, latency_ms)


def percentiles(counts: Sequence[int], qs: Sequence[float] = SHOWN) -> list[float | None]:
    """The latencies (ms) below which each share in ``qs`` (ascending, 0..1) of the counted
    requests fell, in one pass over the buckets.

    Interpolated linearly inside the bucket a share falls in, as Prometheus'
    ``histogram_quantile`` does; the slowest bucket reports its lower bound. ``None`` each
    when nothing was counted.
    """
    total = sum(counts)
    if total == 0:
        return [None] * len(qs)
    out: list[float | None] = []
    wanted = iter(qs)
    q = next(wanted, None)
    seen = 0
    for index, count in enumerate(counts):
        while q is not None and count and seen + count >= q * total:
            if index == len(LATENCY_BOUNDS_MS):
                out.append(float(LATENCY_BOUNDS_MS[-1]))
            else:
                lower = LATENCY_BOUNDS_MS[index - 1] if index else 0.0
                upper = LATENCY_BOUNDS_MS[index]
                out.append(lower + (upper - lower) * (q * total - seen) / count)
            q = next(wanted, None)
        seen += count
    return out + [float(LATENCY_BOUNDS_MS[-1])] * (len(qs) - len(out))


def percentile(counts: Sequence[int], q: float) -> float | None:
    """The latency (ms) below which a share ``q`` (0..1) of the counted requests fell."""
    return percentiles(counts, (q,))[0]
