"""The autoscaling policy: scale up fast, down slowly, within bounds, without flapping."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from mcp_console.backend.deploy.autoscaler import AutoscalePolicy, Autoscaler, ScaleDecision
from mcp_console.backend.ports import LoadSample, LoadSource
from mcp_console.schemas.errors import Invalid

DEPLOYMENT = 7
POLICY = AutoscalePolicy(min_replicas=1, max_replicas=10, target_inflight=2.0)


@dataclass
class DrivenLoad:
    """A load source the test sets by hand, standing in for the gateway."""

    inflight: float | None = None
    rps: float = 0.0
    at: float = 0.0

    def set(self, at: float, inflight: float | None, rps: float = 0.0) -> None:
        self.at, self.inflight, self.rps = at, inflight, rps

    def sample(self, deployment_id: int) -> LoadSample | None:
        if self.inflight is None:
            return None
        return LoadSample(at=self.at, inflight=self.inflight, rps=self.rps, healthy_instances=1)


@dataclass
class Loop:
    """An autoscaling loop over a driven load that applies every decision it gets."""

    policy: AutoscalePolicy = POLICY
    replicas: int = 1
    load: DrivenLoad = field(default_factory=DrivenLoad)
    scaler: Autoscaler = field(default_factory=Autoscaler)
    history: list[tuple[float, ScaleDecision]] = field(default_factory=list)

    def tick(self, now: float, inflight: float | None, rps: float = 0.0) -> ScaleDecision | None:
        self.load.set(now, inflight, rps)
        source: LoadSource = self.load
        decision = self.scaler.evaluate(DEPLOYMENT, self.policy, self.replicas, source, now)
        if decision is not None:
            self.replicas = decision.replicas
            self.history.append((now, decision))
        return decision

    def run(self, start: float, end: float, inflight: float, step: float = 10.0) -> None:
        now = start
        while now <= end:
            self.tick(now, inflight)
            now += step


def test_sustained_load_scales_up_on_the_second_sample() -> None:
    loop = Loop()
    assert loop.tick(0, 9.0) is None  # one sample could be a spike
    decision = loop.tick(10, 9.0)
    assert decision == ScaleDecision(5, "in-flight 9.0 per instance over target 2.0 → scale 1 → 5")
    assert loop.replicas == 5


def test_scale_up_stops_at_the_maximum() -> None:
    loop = Loop()
    loop.run(0, 10, inflight=100.0)
    assert loop.replicas == 10
    assert loop.history[-1][1].reason.endswith("→ scale 1 → 10 (the policy maximum)")


def test_requests_per_second_target() -> None:
    loop = Loop(policy=AutoscalePolicy(min_replicas=1, max_replicas=4, target_rps=5.0))
    loop.tick(0, 0.0, rps=12.0)
    decision = loop.tick(10, 0.0, rps=12.0)
    assert decision is not None
    assert decision.reason == "requests/s 12.0 per instance over target 5.0 → scale 1 → 3"


def test_scale_up_waits_for_its_cooldown() -> None:
    loop = Loop()
    loop.run(0, 10, inflight=9.0)  # 1 → 5 at t=10
    assert loop.tick(20, 16.0) is None
    assert loop.tick(30, 16.0) is None  # 20 s since the change; the cooldown is 30 s
    decision = loop.tick(40, 16.0)
    assert decision is not None
    assert decision.replicas == 8
    assert loop.replicas == 8


def test_scale_down_is_slow_window_then_cooldown() -> None:
    loop = Loop()
    loop.run(0, 10, inflight=9.0)  # 1 → 5 at t=10
    loop.run(20, 120, inflight=2.0)
    assert loop.replicas == 5  # under the 120 s down cooldown since t=10
    decision = loop.tick(130, 2.0)
    assert decision == ScaleDecision(
        1, "in-flight 0.4 per instance under target 2.0 → scale 5 → 1 (the policy minimum)"
    )


def test_a_recent_peak_holds_the_scale_down() -> None:
    loop = Loop()
    loop.run(0, 10, inflight=9.0)  # 1 → 5 at t=10
    loop.run(20, 140, inflight=2.0)  # down to 1 at t=130
    assert loop.replicas == 1
    loop.run(150, 160, inflight=6.0)  # back up to 3 at t=160
    assert loop.replicas == 3
    loop.tick(300, 8.0)  # a single busy sample: not enough to go up ...
    assert loop.replicas == 3
    loop.run(310, 360, inflight=1.0)  # ... but within the window it holds 4 replicas' worth
    assert loop.replicas == 3
    loop.tick(370, 1.0)  # the peak has left the 60 s window
    assert loop.replicas == 1


def test_alternating_load_does_not_flap() -> None:
    loop = Loop(replicas=3)
    now = 0.0
    for i in range(120):  # 20 minutes, one sample every 10 s
        loop.tick(now, 12.0 if i % 2 else 1.0)
        now += 10
    assert loop.history == []
    assert loop.replicas == 3


def test_no_load_data_changes_nothing() -> None:
    loop = Loop(replicas=4)
    for now in range(0, 600, 10):
        assert loop.tick(now, None) is None
    assert loop.replicas == 4
    # Samples that stopped coming are forgotten once older than the window.
    loop.tick(700, 0.0)
    assert loop.tick(900, None) is None
    assert loop.replicas == 4


def test_zero_load_scales_to_zero_when_allowed_and_back_up() -> None:
    loop = Loop(policy=AutoscalePolicy(min_replicas=0, max_replicas=5, target_inflight=2.0))
    loop.run(0, 10, inflight=0.0)
    assert loop.replicas == 0
    assert loop.history[0][1].reason.endswith("→ scale 1 → 0 (the policy minimum)")
    loop.run(40, 50, inflight=3.0)
    assert loop.replicas == 2
    assert loop.history[-1][1].reason == (
        "in-flight 3.0 with no instance over target 2.0 → scale 0 → 2"
    )


def test_out_of_bounds_counts_are_clamped_at_once() -> None:
    loop = Loop(policy=AutoscalePolicy(min_replicas=2, max_replicas=6, target_inflight=2.0))
    loop.replicas = 0
    below = loop.tick(0, None)
    assert below == ScaleDecision(2, "0 replicas is below the policy minimum of 2 → scale 0 → 2")
    loop.replicas = 9  # set by hand, right after a change: no cooldown holds a clamp back
    above = loop.tick(1, None)
    assert above == ScaleDecision(6, "9 replicas is above the policy maximum of 6 → scale 9 → 6")


def test_a_manual_change_starts_the_cooldown() -> None:
    loop = Loop()
    loop.run(0, 200, inflight=1.0)
    assert loop.history == []
    loop.replicas = 6  # someone scaled by hand at t=210
    loop.run(210, 320, inflight=1.0)
    assert loop.replicas == 6
    loop.tick(330, 1.0)
    assert loop.replicas == 1


def test_deployments_are_tracked_apart_and_can_be_forgotten() -> None:
    scaler = Autoscaler()
    busy = LoadSample(at=0, inflight=9.0, rps=0.0, healthy_instances=1)
    assert scaler.decide(1, POLICY, 1, busy, 0) is None
    idle = LoadSample(at=10, inflight=0.0, rps=0.0, healthy_instances=1)
    assert scaler.decide(2, POLICY, 1, idle, 10) is None
    again = LoadSample(at=10, inflight=9.0, rps=0.0, healthy_instances=1)
    scaler.forget(1)
    assert scaler.decide(1, POLICY, 1, again, 10) is None  # its first sample was dropped
    later = LoadSample(at=20, inflight=9.0, rps=0.0, healthy_instances=1)
    decision = scaler.decide(1, POLICY, 1, later, 20)
    assert decision is not None
    assert decision.replicas == 5


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"min_replicas": 3, "max_replicas": 2, "target_inflight": 1}, "min_replicas", "exceed"),
        ({"min_replicas": -1, "max_replicas": 2, "target_inflight": 1}, "min_replicas", "between"),
        ({"min_replicas": 0, "max_replicas": 0, "target_inflight": 1}, "max_replicas", "at least"),
        ({"min_replicas": 1, "max_replicas": 5000, "target_rps": 1}, "max_replicas", "between"),
        ({"min_replicas": 1.5, "max_replicas": 2, "target_rps": 1}, "min_replicas", "whole"),
        ({"min_replicas": 1, "max_replicas": 2}, "target_rps", "exactly one target"),
        (
            {"min_replicas": 1, "max_replicas": 2, "target_rps": 1, "target_inflight": 1},
            "target_inflight",
            "exactly one target",
        ),
        ({"min_replicas": 1, "max_replicas": 2, "target_rps": 0}, "target_rps", "above 0"),
        ({"min_replicas": 1, "max_replicas": 2, "target_rps": "nan"}, "target_rps", "above 0"),
        (
            {"min_replicas": 1, "max_replicas": 2, "target_rps": 1, "scale_up_cooldown_s": -1},
            "scale_up_cooldown_s",
            "0 or more",
        ),
        ({"max_replicas": 2, "target_rps": 1}, "min_replicas", "required"),
        ({"min_replicas": 1, "max_replicas": 2, "target": 1}, "target", "unknown"),
        ({"min_replicas": "two", "max_replicas": 2, "target_rps": 1}, "min_replicas", "number"),
    ],
)
def test_policy_validation_names_the_field(data: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(Invalid, match=message) as caught:
        AutoscalePolicy.from_dict(data)
    assert caught.value.field == f"autoscale.{field}"


def test_policy_round_trips_and_reads_text() -> None:
    policy = AutoscalePolicy.from_dict(
        {"min_replicas": "2", "max_replicas": " 8", "target_rps": "4.5"}
    )
    assert policy == AutoscalePolicy(min_replicas=2, max_replicas=8, target_rps=4.5)
    assert AutoscalePolicy.from_dict(policy.to_dict()) == policy
    assert policy.to_dict()["scale_down_cooldown_s"] == 120
