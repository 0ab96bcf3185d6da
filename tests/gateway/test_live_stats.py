"""Live figures: sliding-window rates, latency percentiles and in-flight counts follow load."""

from __future__ import annotations

import pytest

from mcp_console.backend.bridge.load import GatewayLoad
from mcp_console.backend.deploy.autoscaler import AutoscalePolicy, Autoscaler
from mcp_console.backend.gateway.live_stats import LiveStats
from mcp_console.backend.ports import LoadSource


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def test_live_figures_follow_a_driven_sequence() -> None:
    clock = Clock()
    live = LiveStats(window_s=10, clock=clock)
    base = clock.now + 30  # the gateway has been up for a while
    for second in range(10):
        for i in range(10):  # 10 requests/s: 9 fast on instance a, 1 slow on instance b
            clock.now = base + second + i * 0.09
            slow = i == 9
            live.request_done(7, "b" if slow else "a", 40.0 if slow else 1.8, slow and second < 5)
    clock.now = base + 9.9

    figures = live.deployment(7)
    assert figures is not None
    assert (figures.requests, figures.errors) == (100, 5)
    assert figures.rps == pytest.approx(100 / 9.9)  # over the 9.9 s since the window began
    assert figures.error_rate == pytest.approx(0.05)
    assert figures.p50_ms is not None
    assert 1.5 < figures.p50_ms <= 2.0
    assert figures.p95_ms is not None
    assert 30.0 < figures.p95_ms <= 50.0
    a, b = live.instance(7, "a"), live.instance(7, "b")
    assert a is not None
    assert b is not None
    assert (a.requests, a.errors, b.requests, b.errors) == (90, 0, 10, 5)
    assert set(live.instances(7)) == {"a", "b"}
    assert live.deployment(8) is None
    assert list(live.deployments()) == [7]

    # Past the window the figures empty out, and idle instances are forgotten.
    clock.now += 11
    later = live.deployment(7)
    assert later is not None
    assert (later.requests, later.rps, later.p50_ms, later.error_rate) == (0, 0.0, None, 0.0)
    assert live.prune() == 2
    assert live.instances(7) == {}


def test_in_flight_counts_now_and_on_average_over_the_window() -> None:
    clock = Clock()
    live = LiveStats(window_s=10, clock=clock)
    clock.now += 60
    for _ in range(4):
        live.inflight_changed(3, "a", +1)
    live.inflight_changed(3, "b", +1)
    clock.now += 5
    assert (f := live.deployment(3)) is not None
    assert f.inflight == 5
    for _ in range(4):
        live.inflight_changed(3, "a", -1)
    clock.now += 4.5

    figures = live.deployment(3)
    assert figures is not None
    assert figures.inflight == 1
    # 5 in flight for 5 s, then 1 for 4.5 s: averaged over the 9.5 s the window spans.
    assert figures.inflight_avg == pytest.approx((5 * 5 + 1 * 4.5) / 9.5)
    a = live.instance(3, "a")
    assert a is not None
    assert a.inflight == 0
    assert a.inflight_avg == pytest.approx(4 * 5 / 9.5)
    assert live.prune() == 0  # instance a still has history in the window


def test_load_source_samples_drive_the_autoscaler() -> None:
    clock = Clock()
    healthy = {5: 2}
    live = LiveStats(window_s=10, clock=clock)
    source: LoadSource = GatewayLoad(live, lambda d: healthy.get(d, 0))
    assert source.sample(5) is None  # nothing seen yet: the autoscaler keeps what it has

    scaler = Autoscaler(confirm_samples=2)
    policy = AutoscalePolicy(min_replicas=1, max_replicas=8, target_rps=20.0)
    decisions = []
    for _tick in range(3):
        for _ in range(10 * 70):  # 70 requests/s for 10 s, one at a time
            live.inflight_changed(5, "a", +1)
            clock.now += 1 / 70
            live.inflight_changed(5, "a", -1)
            live.request_done(5, "a", 3.0, error=False)
        sample = source.sample(5)
        assert sample is not None
        assert sample.rps == pytest.approx(70.0, rel=0.02)
        assert sample.inflight == pytest.approx(1.0, rel=0.05)
        assert sample.healthy_instances == 2
        assert sample.at == clock.now
        decisions.append(scaler.evaluate(5, policy, 2, source, clock.now))

    # 70 requests/s over a target of 20 per instance: 4 instances, once confirmed.
    assert decisions[0] is None
    assert decisions[1] is not None
    assert decisions[1].replicas == 4
