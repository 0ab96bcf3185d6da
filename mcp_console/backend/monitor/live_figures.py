"""LiveFiguresService: a deployment's last minute of traffic, its instances' CPU and memory."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.deploy.deployment_record import DeploymentState, address
from mcp_console.backend.deploy.lookup import find
from mcp_console.backend.monitor.resource_sampler import ResourceSampler
from mcp_console.schemas.deploy import DeploymentView, InstanceStatus
from mcp_console.schemas.monitor import DeploymentMetrics, InstanceUsage, TrafficPoint
from mcp_console.schemas.users import Principal

if TYPE_CHECKING:
    from mcp_console.backend.gateway.live_stats import LiveStats
    from mcp_console.backend.gateway.server import GatewayServer

V = TypeVar("V", bound=DeploymentView)

# The span of the live figures: a minute, second by second.
LIVE_HISTORY_S = 60
# Instances that have (or are about to have) a container or process to measure.
MEASURED = frozenset({InstanceStatus.STARTING, InstanceStatus.RUNNING, InstanceStatus.DRAINING})


class LiveFiguresService:
    """Reads what the running gateway counts of a deployment's traffic, and what it costs.

    Users see only their own deployments (an admin everyone's, as ``owner/name``). Where
    no gateway serves (a short-lived backend), the figures are empty.

    Args:
        sessions: the database.
        sampler: CPU and memory of instances.
        gateway: the gateway server while one serves, else ``None``.
        live: the gateway's live figures while it serves, else ``None``.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sampler: ResourceSampler,
        gateway: Callable[[], GatewayServer | None],
        live: Callable[[], LiveStats | None],
    ) -> None:
        self._sessions = sessions
        self._sampler = sampler
        self._gateway = gateway
        self._live = live

    async def deployment_metrics(self, actor: Principal, name: str) -> DeploymentMetrics:
        """The last minute of a deployment's gateway traffic and each running instance now.

        Returns:
            Per-second requests, errors and latency percentiles over the window, its totals,
            what is in flight, and per instance its share of the traffic, CPU % (of one
            core) and resident memory. Empty figures where no gateway serves.

        Raises:
            NotFound: the actor has no deployment of that name.
        """
        async with self._sessions() as session:
            state = await find(session, actor, name)
        label = address(actor, state)
        stats = self._live()
        if stats is None or self._gateway() is None:
            return DeploymentMetrics(
                deployment=label,
                window_s=LIVE_HISTORY_S,
                requests_per_s=0.0,
                error_rate=0.0,
                p50_ms=None,
                p95_ms=None,
                in_flight=0,
                points=[],
                instances=[],
            )
        window = stats.history_s
        figures = stats.deployment(state.id, window)
        # The stats count on a monotonic clock; a point's time is shown on the wall clock.
        offset = time.time() - stats.now()
        points = [
            TrafficPoint(
                at=datetime.fromtimestamp(s.second + offset, UTC),
                requests=s.requests,
                errors=s.errors,
                p50_ms=s.p50_ms,
                p95_ms=s.p95_ms,
            )
            for s in stats.seconds(state.id)
        ]
        return DeploymentMetrics(
            deployment=label,
            window_s=window,
            requests_per_s=figures.rps if figures else 0.0,
            error_rate=figures.error_rate if figures else 0.0,
            p50_ms=figures.p50_ms if figures else None,
            p95_ms=figures.p95_ms if figures else None,
            in_flight=figures.inflight if figures else 0,
            points=points,
            instances=await self._instances(state, stats, window),
        )

    async def _instances(
        self, state: DeploymentState, stats: LiveStats, window: int
    ) -> list[InstanceUsage]:
        measured = [
            (row, (row.driver, row.container_id))
            for row in state.instances
            if row.status in MEASURED and row.driver and row.container_id
        ]
        used = await self._sampler.sample([target for _, target in measured])
        traffic = stats.instances(state.id, window)
        out = []
        for row, target in measured:
            figures = traffic.get(row.name)
            out.append(
                InstanceUsage(
                    instance=row.name,
                    in_flight=figures.inflight if figures else 0,
                    requests_per_s=figures.rps if figures else 0.0,
                    error_rate=figures.error_rate if figures else 0.0,
                    cpu_percent=used[target].cpu_percent,
                    memory_mb=used[target].memory_mb,
                )
            )
        return out

    def live_view(self, view: V) -> V:
        """``view`` with the last minute's requests/s and error rate where a gateway serves
        (no database access: cheap for every row of a list)."""
        stats = self._live()
        if stats is None:
            return view
        figures = stats.rates(view.id, stats.history_s)
        return view.model_copy(
            update={
                "requests_per_s": figures.rps if figures else 0.0,
                "error_rate": figures.error_rate if figures else 0.0,
            }
        )

    def live_views(self, views: Sequence[V]) -> list[V]:
        """Each of ``views`` with its live figures (see ``live_view``)."""
        return [self.live_view(view) for view in views]
