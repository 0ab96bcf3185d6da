"""Autoscaling: the policy a deployment scales by, and the decisions it leads to (no I/O)."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from mcp_console.backend.ports import LoadSample, LoadSource
from mcp_console.schemas.errors import Invalid

MAX_REPLICAS = 1000
# Samples older than this are forgotten; decisions look at what is left.
DEFAULT_WINDOW_S = 60.0
# Scaling up needs this many recent samples all over target, so one spike changes nothing.
DEFAULT_CONFIRM_SAMPLES = 2
_PRECISION = 9


@dataclass(frozen=True)
class AutoscalePolicy:
    """How many instances a deployment may run, and the load per instance to aim for.

    Exactly one target is set: ``target_inflight`` (requests being served at once) or
    ``target_rps`` (requests per second), both per instance. Cooldowns are seconds since the
    last change of the replica count before the next scale-up or scale-down.
    """

    min_replicas: int
    max_replicas: int
    target_inflight: float | None = None
    target_rps: float | None = None
    scale_up_cooldown_s: float = 30
    scale_down_cooldown_s: float = 120

    def validate(self) -> None:
        """Raise ``Invalid`` naming the first field that is wrong (``autoscale.<field>``)."""
        for name in ("min_replicas", "max_replicas"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise Invalid(f"{name} must be a whole number, got {value!r}", field=_at(name))
            if not 0 <= value <= MAX_REPLICAS:
                raise Invalid(
                    f"{name} must be between 0 and {MAX_REPLICAS}, got {value}", field=_at(name)
                )
        if self.max_replicas < 1:
            raise Invalid("max_replicas must be at least 1", field=_at("max_replicas"))
        if self.min_replicas > self.max_replicas:
            raise Invalid(
                f"min_replicas ({self.min_replicas}) must not exceed max_replicas "
                f"({self.max_replicas})",
                field=_at("min_replicas"),
            )
        if (self.target_inflight is None) == (self.target_rps is None):
            raise Invalid(
                "set exactly one target: target_inflight or target_rps (per instance)",
                field=_at("target_inflight" if self.target_inflight is not None else "target_rps"),
            )
        for name in ("target_inflight", "target_rps"):
            value = getattr(self, name)
            if value is not None and not (_is_number(value) and math.isfinite(value) and value > 0):
                raise Invalid(f"{name} must be a number above 0, got {value!r}", field=_at(name))
        for name in ("scale_up_cooldown_s", "scale_down_cooldown_s"):
            value = getattr(self, name)
            if not (_is_number(value) and math.isfinite(value) and value >= 0):
                raise Invalid(f"{name} must be 0 or more seconds, got {value!r}", field=_at(name))

    @property
    def metric(self) -> str:
        """What the target measures, as a reason names it."""
        return "in-flight" if self.target_inflight is not None else "requests/s"

    @property
    def target(self) -> float:
        """The per-instance target, whichever is set."""
        target = self.target_inflight if self.target_inflight is not None else self.target_rps
        assert target is not None  # validate() guarantees one target
        return target

    def load_of(self, sample: LoadSample) -> float:
        """The deployment-wide load this policy's target measures."""
        return sample.inflight if self.target_inflight is not None else sample.rps

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AutoscalePolicy:
        """A validated policy from its stored or submitted form (``to_dict``'s keys).

        Raises:
            Invalid: an unknown or missing key, or a value out of range.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise Invalid(
                f"unknown autoscale setting {unknown[0]!r}; known: {', '.join(sorted(known))}",
                field=_at(unknown[0]),
            )
        for name in ("min_replicas", "max_replicas"):
            if data.get(name) is None:
                raise Invalid(f"{name} is required", field=_at(name))
        values = {name: _number(name, value) for name, value in data.items()}
        policy = cls(**values)
        policy.validate()
        return policy

    def to_dict(self) -> dict[str, Any]:
        """The policy as JSON-ready data that ``from_dict`` reads back."""
        return asdict(self)


@dataclass(frozen=True)
class ScaleDecision:
    """A change of replica count, and a sentence saying why for the deployment's history."""

    replicas: int
    reason: str


@dataclass
class _State:
    samples: deque[LoadSample] = field(default_factory=deque)
    last_change: float | None = None
    replicas: int | None = None


class Autoscaler:
    """Turns load samples into replica counts, remembering recent samples per deployment.

    The desired count is ``ceil(load / target)``, clamped to the policy's bounds. Scaling up
    needs the last ``confirm_samples`` samples to all ask for more (it goes to the smallest of
    their asks); scaling down goes only as low as the busiest sample of the last ``window_s``
    seconds allows. Each waits out its cooldown since the last change of the replica count
    (including one made by someone else). Without samples the count stays as it is, except that
    a count outside the bounds is brought into them at once.
    """

    def __init__(
        self, *, window_s: float = DEFAULT_WINDOW_S, confirm_samples: int = DEFAULT_CONFIRM_SAMPLES
    ) -> None:
        if window_s <= 0 or confirm_samples < 1:
            raise ValueError("window_s must be above 0 and confirm_samples at least 1")
        self.window_s = window_s
        self.confirm_samples = confirm_samples
        self._states: dict[int, _State] = {}

    def evaluate(
        self,
        deployment_id: int,
        policy: AutoscalePolicy,
        current_replicas: int,
        source: LoadSource,
        now: float,
    ) -> ScaleDecision | None:
        """One tick of an autoscaling loop: sample ``source`` and decide."""
        return self.decide(
            deployment_id, policy, current_replicas, source.sample(deployment_id), now
        )

    def decide(
        self,
        deployment_id: int,
        policy: AutoscalePolicy,
        current_replicas: int,
        sample: LoadSample | None,
        now: float,
    ) -> ScaleDecision | None:
        """The new replica count for a deployment, or ``None`` to keep the current one.

        Args:
            deployment_id: whose samples to remember.
            policy: a validated policy.
            current_replicas: how many instances the deployment is meant to run now.
            sample: the latest load, or ``None`` when the gateway knows nothing.
            now: the time on the samples' clock.

        Returns:
            A decision (assumed applied: it starts the cooldowns), or ``None``.
        """
        state = self._states.setdefault(deployment_id, _State())
        if state.replicas is not None and state.replicas != current_replicas:
            state.last_change = now
        state.replicas = current_replicas
        self._remember(state, sample, now)
        decision = self._bounds(policy, current_replicas) or self._by_load(
            state, policy, current_replicas, now
        )
        if decision is not None:
            state.last_change = now
            state.replicas = decision.replicas
        return decision

    def forget(self, deployment_id: int) -> None:
        """Drop what is remembered about a deployment (it was removed or stopped scaling)."""
        self._states.pop(deployment_id, None)

    def _remember(self, state: _State, sample: LoadSample | None, now: float) -> None:
        samples = state.samples
        if sample is not None and (not samples or sample.at > samples[-1].at):
            samples.append(sample)
        while samples and samples[0].at < now - self.window_s:
            samples.popleft()

    @staticmethod
    def _bounds(policy: AutoscalePolicy, current: int) -> ScaleDecision | None:
        if current < policy.min_replicas:
            return ScaleDecision(
                policy.min_replicas,
                f"{current} replicas is below the policy minimum of {policy.min_replicas} "
                f"→ scale {current} → {policy.min_replicas}",
            )
        if current > policy.max_replicas:
            return ScaleDecision(
                policy.max_replicas,
                f"{current} replicas is above the policy maximum of {policy.max_replicas} "
                f"→ scale {current} → {policy.max_replicas}",
            )
        return None

    def _by_load(
        self, state: _State, policy: AutoscalePolicy, current: int, now: float
    ) -> ScaleDecision | None:
        samples = list(state.samples)
        if len(samples) < self.confirm_samples:
            return None
        since_change = math.inf if state.last_change is None else now - state.last_change
        recent = samples[-self.confirm_samples :]
        up_load = min(policy.load_of(s) for s in recent)
        up = self._desired(policy, up_load)
        if up > current:
            if since_change < policy.scale_up_cooldown_s:
                return None
            return ScaleDecision(up, _reason(policy, up_load, current, up, "over"))
        down_load = max(policy.load_of(s) for s in samples)
        down = self._desired(policy, down_load)
        if down < current and since_change >= policy.scale_down_cooldown_s:
            return ScaleDecision(down, _reason(policy, down_load, current, down, "under"))
        return None

    @staticmethod
    def _desired(policy: AutoscalePolicy, load: float) -> int:
        # Rounded first so that 6.0000000001 / 2 does not ask for a fourth instance.
        wanted = math.ceil(round(max(load, 0.0) / policy.target, _PRECISION))
        return min(max(wanted, policy.min_replicas), policy.max_replicas)


def _reason(policy: AutoscalePolicy, load: float, current: int, new: int, side: str) -> str:
    per = f"{load / current:.1f} per instance" if current else f"{load:.1f} with no instance"
    limit = ""
    if new == policy.max_replicas and side == "over":
        limit = " (the policy maximum)"
    elif new == policy.min_replicas and side == "under":
        limit = " (the policy minimum)"
    return (
        f"{policy.metric} {per} {side} target {policy.target:.1f} → scale {current} → {new}{limit}"
    )


def _at(name: str) -> str:
    return f"autoscale.{name}"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(name: str, value: Any) -> Any:
    """Text from a form or command line as a number; anything else is left to ``validate``."""
    if not isinstance(value, str):
        return value
    convert: Callable[[str], float] = int if name.endswith("replicas") else float
    try:
        return convert(value.strip())
    except ValueError:
        raise Invalid(f"{name} must be a number, got {value!r}", field=_at(name)) from None
