"""The autoscaler's load source: the gateway's live figures and the instances it routes."""

from __future__ import annotations

from collections.abc import Callable

from mcp_console.backend.gateway.live_stats import LiveStats
from mcp_console.backend.ports import LoadSample


class GatewayLoad:
    """A ``LoadSource`` reading a deployment's requests/s and average in-flight over the
    live window, with the number of instances taking new work now.

    Args:
        live: the gateway's live figures.
        healthy_instances: how many instances of a deployment take new work (the route
            feed knows).
    """

    def __init__(self, live: LiveStats, healthy_instances: Callable[[int], int]) -> None:
        self._live = live
        self._healthy = healthy_instances

    def sample(self, deployment_id: int) -> LoadSample | None:
        """The load now, or ``None`` when the gateway has not seen the deployment since it
        started (the autoscaler then keeps what it has)."""
        figures = self._live.deployment(deployment_id)
        if figures is None:
            return None
        return LoadSample(
            at=figures.at,
            inflight=max(figures.inflight_avg, 0.0),
            rps=figures.rps,
            healthy_instances=self._healthy(deployment_id),
        )
