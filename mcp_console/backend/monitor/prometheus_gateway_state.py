"""GatewayState: instances and sessions as the gateway routes them, a collector for /metrics."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from mcp_console.backend.gateway.core import Gateway
from mcp_console.backend.monitor.prometheus_labels import deployment_label, instance_state


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the gateway routed when last refreshed: counts by (deployment, state) and
    by deployment."""

    instances: Counter[tuple[str, str]] = field(default_factory=Counter)
    sessions: Counter[str] = field(default_factory=Counter)


class GatewayState(Collector):
    """Instances per deployment and state, and open sessions per deployment.

    The gateway's tables change on the event loop, and a scrape renders on a worker
    thread: so ``refresh()`` (on the loop, in memory only) copies the counts into an
    immutable snapshot, which ``collect()`` reads from any thread.

    Args:
        gateway: The gateway while one serves, else ``None`` (then everything is zero).
    """

    def __init__(self, gateway: Callable[[], Gateway | None]) -> None:
        self._gateway = gateway
        self._snapshot = Snapshot()

    def refresh(self) -> None:
        """Take the counts now (call it on the event loop)."""
        gateway = self._gateway()
        if gateway is None:
            self._snapshot = Snapshot()
            return
        instances: Counter[tuple[str, str]] = Counter()
        sessions: Counter[str] = Counter()
        names: dict[int, str] = {}
        for route in gateway.routes.routes():
            name = names[route.deployment_id] = deployment_label(route)
            sessions[name] = 0  # a deployment without sessions shows 0, not nothing
            for instance in route.instances.values():
                instances[(name, instance_state(instance))] += 1
        for session in gateway.list_sessions():
            if session.deployment_id in names:
                sessions[names[session.deployment_id]] += 1
        self._snapshot = Snapshot(instances, sessions)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The last snapshot's figures (no I/O, safe on any thread)."""
        snapshot = self._snapshot
        instances = GaugeMetricFamily(
            "mcp_console_gateway_instances",
            "Instances the gateway routes to (per-session instances excepted), by state.",
            labels=("deployment", "state"),
        )
        for (deployment, state), count in sorted(snapshot.instances.items()):
            instances.add_metric((deployment, state), count)
        yield instances
        sessions = GaugeMetricFamily(
            "mcp_console_gateway_sessions",
            "Client sessions open on the gateway.",
            labels=("deployment",),
        )
        for deployment, count in sorted(snapshot.sessions.items()):
            sessions.add_metric((deployment,), count)
        yield sessions
