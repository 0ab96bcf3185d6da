"""The gateway's live stats keep a minute second by second, besides the autoscaler's window."""

from __future__ import annotations

import pytest

from mcp_console.backend.gateway.live_stats import LiveStats


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def test_a_minute_is_kept_per_second_while_the_window_stays_short() -> None:
    clock = Clock()
    live = LiveStats(window_s=10, history_s=60, clock=clock)
    start = clock.now + 100  # the gateway has been up for a while
    for second in range(30):  # 30 s of 2 requests/s, the first 5 s failing half
        for i in range(2):
            clock.now = start + second + i * 0.4
            live.request_done(4, "a", 2.0 if i else 20.0, error=second < 5 and i == 0)
    clock.now = start + 29.9

    points = live.seconds(4)
    assert len(points) == 60
    assert [p.second for p in points] == list(range(int(start) - 30, int(start) + 30))
    assert [p.requests for p in points] == [0] * 30 + [2] * 30
    assert sum(p.errors for p in points) == 5
    busy = points[-1]
    assert busy.p50_ms is not None
    assert busy.p95_ms is not None
    assert busy.p50_ms < busy.p95_ms
    assert points[0].p50_ms is None

    # The autoscaler's window is still 10 s; a read may ask for the whole minute.
    short = live.deployment(4)
    minute = live.deployment(4, 60)
    assert short is not None
    assert minute is not None
    assert (short.window_s, short.requests, short.errors) == (10, 20, 0)
    assert (minute.window_s, minute.requests, minute.errors) == (60, 60, 5)
    assert minute.error_rate == pytest.approx(5 / 60)
    rates = live.rates(4, 60)
    assert rates is not None
    assert (rates.rps, rates.p50_ms) == (minute.rps, None)
    instance = live.instance(4, "a", 60)
    assert instance is not None
    assert instance.requests == 60

    # An idle instance is kept while anything of it is within the minute.
    clock.now += 40
    assert live.prune() == 0
    clock.now += 30
    assert live.prune() == 1
    assert live.seconds(99) == []
