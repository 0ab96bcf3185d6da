"""LoadBalancer: least requests in flight over a deployment's healthy, non-draining instances."""

from __future__ import annotations

import time
from collections.abc import Callable

from mcp_console.backend.gateway.records import Meter
from mcp_console.backend.gateway.routing import DeploymentRoute, RoutingTable, UpstreamInstance

DEFAULT_EJECT_SECONDS = 2.0


class LoadBalancer:
    """Chooses an instance for each new session and each modern request.

    The instance with the fewest requests in flight wins; ties rotate, so sequential
    traffic spreads evenly too. An instance that refused a connection is passed over
    for ``eject_seconds`` (passive health: the controller's checks are slower); when
    every candidate is passed over, the one whose ejection ends first is tried anyway,
    so a deployment never stays dark on a stale verdict.

    Counts live on the instances themselves, so ``begin``/``end`` are two attribute
    updates and a call to the meter.

    Args:
        routes: the routing table (for ``inflight``).
        meter: told of every change of an instance's in-flight count.
        eject_seconds: how long a refusing instance is passed over.
        clock: monotonic seconds.
    """

    def __init__(
        self,
        routes: RoutingTable,
        meter: Meter,
        *,
        eject_seconds: float = DEFAULT_EJECT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._routes = routes
        self.meter = meter
        self.eject_seconds = eject_seconds
        self._clock = clock

    def pick(
        self, route: DeploymentRoute, exclude: UpstreamInstance | None = None
    ) -> UpstreamInstance | None:
        """The instance for new work on ``route``, or ``None`` when it has none."""
        candidates = route.candidates
        count = len(candidates)
        if count == 0:
            return None
        start = route.rotation
        route.rotation = start + 1
        best: UpstreamInstance | None = None
        best_load = 1 << 62
        fallback: UpstreamInstance | None = None
        now = 0.0
        for offset in range(count):
            instance = candidates[(start + offset) % count]
            if instance is exclude:
                continue
            if instance.ejected_until:
                now = now or self._clock()
                if instance.ejected_until > now:
                    if fallback is None or instance.ejected_until < fallback.ejected_until:
                        fallback = instance
                    continue
                instance.ejected_until = 0.0
            load = instance.inflight
            if load < best_load:
                best, best_load = instance, load
                if load == 0:
                    break
        return best if best is not None else fallback

    def begin(self, deployment_id: int, instance: UpstreamInstance) -> None:
        """A request starts on ``instance``."""
        instance.inflight += 1
        self.meter.inflight_changed(deployment_id, instance.instance_id, 1)

    def end(self, deployment_id: int, instance: UpstreamInstance) -> None:
        """A request on ``instance`` has finished (whatever its outcome)."""
        instance.inflight -= 1
        self.meter.inflight_changed(deployment_id, instance.instance_id, -1)

    def eject(self, instance: UpstreamInstance) -> None:
        """Pass ``instance`` over for a while: it refused a connection or its process ended."""
        instance.ejected_until = self._clock() + self.eject_seconds

    def is_ejected(self, instance: UpstreamInstance) -> bool:
        """Whether ``instance`` is being passed over now."""
        return instance.ejected_until > 0 and instance.ejected_until > self._clock()

    def inflight(self, deployment_id: int) -> dict[str, int]:
        """Requests in flight per shared instance of a deployment (for live figures)."""
        route = self._routes.get(deployment_id)
        if route is None:
            return {}
        return {i.instance_id: i.inflight for i in route.instances.values()}
