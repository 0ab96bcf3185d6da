"""Live gateway figures per deployment and instance over a sliding window (O(1) per request)."""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_WINDOW_S = 10
# Upper bounds (ms) of the latency histogram's buckets; one more bucket takes what is slower.
LATENCY_BOUNDS_MS: tuple[float, ...] = (
    0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 7.5, 10, 15, 20, 30, 50, 75, 100,
    150, 250, 500, 750, 1000, 2500, 5000, 10000, 30000,
)  # fmt: skip
_BUCKETS = len(LATENCY_BOUNDS_MS) + 1

Key = tuple[int, str | None]  # (deployment, instance); instance None = the whole deployment


@dataclass(frozen=True, slots=True)
class LiveFigures:
    """What a deployment or one instance is doing, over the last ``window_s`` seconds.

    Attributes:
        at: When the figures were taken (``time.monotonic()``'s clock).
        window_s: The span the rates and percentiles cover.
        requests: Requests finished in the window.
        errors: How many of those failed.
        rps: Requests finished per second over the window.
        inflight: Requests being served right now.
        inflight_avg: Requests served at once, averaged over the window.
        p50_ms: Median latency (from a fixed-bucket histogram), ``None`` without requests.
        p95_ms: 95th-percentile latency, ``None`` without requests.
        error_rate: ``errors / requests`` (0 without requests).
    """

    at: float
    window_s: float
    requests: int
    errors: int
    rps: float
    inflight: int
    inflight_avg: float
    p50_ms: float | None
    p95_ms: float | None
    error_rate: float


@dataclass(frozen=True, slots=True)
class SecondFigures:
    """One second of a deployment's traffic.

    Attributes:
        second: The second it covers (``int`` of the stats' clock).
        requests: Requests finished in it.
        errors: How many of those failed.
        p50_ms: Median latency, ``None`` without requests.
        p95_ms: 95th-percentile latency, ``None`` without requests.
    """

    second: int
    requests: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None


class _Series:
    """A ring of one-second buckets: counts, errors, latency histogram, in-flight area."""

    __slots__ = ("area", "counts", "errors", "hist", "level", "level_since", "stamps", "window")

    def __init__(self, window: int, now: float) -> None:
        self.window = window
        self.stamps = [-1] * window
        self.counts = [0] * window
        self.errors = [0] * window
        self.area = [0.0] * window  # in-flight level times seconds, per second
        self.hist = [[0] * _BUCKETS for _ in range(window)]
        self.level = 0
        self.level_since = now

    def _slot(self, second: int) -> int:
        i = second % self.window
        if self.stamps[i] != second:
            self.stamps[i] = second
            self.counts[i] = self.errors[i] = 0
            self.area[i] = 0.0
            hist = self.hist[i]
            for b in range(_BUCKETS):
                hist[b] = 0
        return i

    def add(self, now: float, bucket: int, error: bool) -> None:
        i = self._slot(int(now))
        self.counts[i] += 1
        self.hist[i][bucket] += 1
        if error:
            self.errors[i] += 1

    def change_level(self, now: float, delta: int) -> None:
        self.integrate(now)
        self.level = max(0, self.level + delta)

    def integrate(self, now: float) -> None:
        """Add the in-flight level held since the last change to the seconds it covered."""
        start, level = self.level_since, self.level
        self.level_since = max(now, start)
        if level == 0 or now <= start:
            return
        # Only the seconds still inside the ring matter.
        start = max(start, float(int(now) - self.window + 1))
        second = int(start)
        while start < now:
            end = min(float(second + 1), now)
            self.area[self._slot(second)] += level * (end - start)
            start, second = end, second + 1

    def idle_since(self, now: float) -> bool:
        """Whether nothing is in flight and no bucket is inside the window any more."""
        oldest = int(now) - self.window + 1
        return self.level == 0 and max(self.stamps) < oldest


class LiveStats:
    """Sliding-window figures for every deployment and instance the gateway serves.

    Each finished request and each in-flight change costs O(1); reading figures costs
    O(history).

    Args:
        window_s: Seconds the figures cover unless a read asks for another span.
        history_s: Seconds kept per series (default and at least ``window_s``): the longest
            span a read may ask for, and what ``seconds()`` returns. Idle instances are
            pruned once nothing of theirs is left in it.
        clock: The clock of ``at`` and of the window (``time.monotonic`` by default).
    """

    def __init__(
        self,
        window_s: int = DEFAULT_WINDOW_S,
        *,
        history_s: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if window_s < 1:
            raise ValueError("window_s must be at least 1 second")
        self.window_s = int(window_s)
        self.history_s = max(int(history_s or 0), self.window_s)
        self._clock = clock
        self._started = clock()
        self._series: dict[Key, _Series] = {}

    def _get(self, key: Key, now: float) -> _Series:
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series(self.history_s, now)
        return series

    # -- writes (the request path) -------------------------------------------------------

    def request_done(
        self, deployment_id: int, instance_id: str | None, latency_ms: float, error: bool
    ) -> None:
        """Count one finished request for its deployment and (when known) its instance."""
        now = self._clock()
        bucket = bisect_left(LATENCY_BOUNDS_MS, latency_ms)
        self._get((deployment_id, None), now).add(now, bucket, error)
        if instance_id is not None:
            self._get((deployment_id, instance_id), now).add(now, bucket, error)

    def inflight_changed(self, deployment_id: int, instance_id: str, delta: int) -> None:
        """Note a request starting (``+1``) or finishing (``-1``) on an instance."""
        now = self._clock()
        self._get((deployment_id, None), now).change_level(now, delta)
        self._get((deployment_id, instance_id), now).change_level(now, delta)

    # -- reads -------------------------------------------------------------------------------

    def now(self) -> float:
        """The current time on the stats' clock."""
        return self._clock()

    def deployment(self, deployment_id: int, window_s: int | None = None) -> LiveFigures | None:
        """A deployment's figures (over ``window_s``, at most the history), or ``None`` when
        the gateway has not seen it."""
        return self._figures((deployment_id, None), window_s)

    def rates(self, deployment_id: int, window_s: int | None = None) -> LiveFigures | None:
        """Like ``deployment`` without latency percentiles: cheap enough for every row of a
        long list."""
        return self._figures((deployment_id, None), window_s, percentiles=False)

    def deployments(self) -> dict[int, LiveFigures]:
        """Figures of every deployment the gateway has seen, by deployment id."""
        out: dict[int, LiveFigures] = {}
        for dep, inst in list(self._series):
            if inst is None and (figures := self._figures((dep, None))) is not None:
                out[dep] = figures
        return out

    def instance(
        self, deployment_id: int, instance_id: str, window_s: int | None = None
    ) -> LiveFigures | None:
        """One instance's figures, or ``None`` when it has no recent traffic."""
        return self._figures((deployment_id, instance_id), window_s)

    def instances(self, deployment_id: int, window_s: int | None = None) -> dict[str, LiveFigures]:
        """Figures of every instance of a deployment with recent traffic, by instance id."""
        out: dict[str, LiveFigures] = {}
        for (dep, inst), _ in list(self._series.items()):
            if dep == deployment_id and inst is not None:
                figures = self._figures((dep, inst), window_s)
                if figures is not None:
                    out[inst] = figures
        return out

    def seconds(self, deployment_id: int) -> list[SecondFigures]:
        """A deployment's history second by second, oldest first, ending with the current
        (partial) second; seconds without traffic are there with zeros. Empty when the
        gateway has not seen the deployment."""
        series = self._series.get((deployment_id, None))
        if series is None:
            return []
        current = int(self._clock())
        slots = {stamp: i for i, stamp in enumerate(series.stamps)}
        out: list[SecondFigures] = []
        for second in range(current - self.history_s + 1, current + 1):
            i = slots.get(second)
            if i is None:
                out.append(SecondFigures(second, 0, 0, None, None))
                continue
            count, hist = series.counts[i], series.hist[i]
            out.append(
                SecondFigures(
                    second,
                    count,
                    series.errors[i],
                    _percentile(hist, count, 0.50),
                    _percentile(hist, count, 0.95),
                )
            )
        return out

    def forget(self, deployment_id: int) -> None:
        """Drop everything about a deployment (it was removed)."""
        for key in [k for k in self._series if k[0] == deployment_id]:
            del self._series[key]

    def prune(self) -> int:
        """Drop idle instance series (nothing in flight or in the window); returns how many."""
        now = self._clock()
        idle = [k for k, s in self._series.items() if k[1] is not None and s.idle_since(now)]
        for key in idle:
            del self._series[key]
        return len(idle)

    def _figures(
        self, key: Key, window_s: int | None = None, *, percentiles: bool = True
    ) -> LiveFigures | None:
        series = self._series.get(key)
        if series is None:
            return None
        window = self.window_s if window_s is None else max(1, min(window_s, self.history_s))
        now = self._clock()
        series.integrate(now)
        current = int(now)
        oldest = current - window + 1
        requests = errors = 0
        area = 0.0
        hist = [0] * _BUCKETS
        for i, stamp in enumerate(series.stamps):
            if oldest <= stamp <= current:
                requests += series.counts[i]
                errors += series.errors[i]
                area += series.area[i]
                if percentiles:
                    for b, n in enumerate(series.hist[i]):
                        hist[b] += n
        # The window runs from the start of its oldest second (or the gateway's start) to now.
        span = max(now - max(float(oldest), self._started), 1.0)
        return LiveFigures(
            at=now,
            window_s=float(window),
            requests=requests,
            errors=errors,
            rps=requests / span,
            inflight=series.level,
            inflight_avg=area / span,
            p50_ms=_percentile(hist, requests, 0.50) if percentiles else None,
            p95_ms=_percentile(hist, requests, 0.95) if percentiles else None,
            error_rate=errors / requests if requests else 0.0,
        )


def _percentile(hist: list[int], total: int, q: float) -> float | None:
    """The q-quantile, interpolated linearly inside the histogram bucket that holds it."""
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for b, n in enumerate(hist):
        if n and seen + n >= rank:
            low = LATENCY_BOUNDS_MS[b - 1] if b > 0 else 0.0
            if b == len(LATENCY_BOUNDS_MS):
                return low  # beyond the last bound: report the bound
            high = LATENCY_BOUNDS_MS[b]
            return low + (high - low) * ((rank - seen) / n)
        seen += n
    return LATENCY_BOUNDS_MS[-1]
