"""Instance gauges for the metrics history: sessions, restarts, CPU and memory, read per flush."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.models import ServiceInstance
from mcp_console.backend.monitor.history_recorder import GaugeKey, InstanceGauges, bucket_start
from mcp_console.backend.monitor.live_figures import MEASURED
from mcp_console.backend.monitor.resource_sampler import ResourceSampler
from mcp_console.schemas.deploy import InstanceStatus

if TYPE_CHECKING:
    from mcp_console.backend.gateway.server import GatewayServer


class GaugeSampler:
    """Reads each instance's gauges once per history write.

    Restarts come from the instance rows the controller keeps (counted as they grow between
    two readings; an instance first seen counts the restarts it had since this backend
    started), CPU and memory from a ``ResourceSampler`` for instances that run, sessions
    from the gateway while one serves.

    Args:
        sessions: the database.
        sampler: CPU and memory of instances.
        gateway: the gateway server while one serves, else ``None``.
        clock: epoch seconds.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sampler: ResourceSampler,
        gateway: Callable[[], GatewayServer | None],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sessions = sessions
        self._sampler = sampler
        self._gateway = gateway
        self._clock = clock
        self._started = datetime.fromtimestamp(clock(), UTC)
        self._restarts: dict[str, int] = {}

    async def sample(self) -> dict[GaugeKey, InstanceGauges]:
        """Every instance not stopped, now: one query, then the runtime's readings."""
        i = ServiceInstance
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(
                        i.deployment_id,
                        i.name,
                        i.status,
                        i.driver,
                        i.container_id,
                        i.restart_count,
                        i.created_at,
                    ).where(i.status != InstanceStatus.STOPPED.value)
                )
            ).all()
        measured = {
            row.name: (row.driver, row.container_id)
            for row in rows
            if row.status in MEASURED and row.driver and row.container_id
        }
        used = await self._sampler.sample(list(measured.values()))
        sessions = self._session_counts()
        bucket = bucket_start(self._clock())
        out: dict[GaugeKey, InstanceGauges] = {}
        seen: dict[str, int] = {}
        for row in rows:
            gauges = InstanceGauges(sessions_max=sessions[(row.deployment_id, row.name)])
            gauges.restarts = self._new_restarts(row.name, row.restart_count, row.created_at)
            seen[row.name] = row.restart_count
            target = measured.get(row.name)
            if target is not None:
                gauges.read(used[target].cpu_percent, used[target].memory_mb)
            out[(row.deployment_id, bucket, row.name)] = gauges
        self._restarts = seen
        return out

    def _new_restarts(self, name: str, count: int, created_at: datetime) -> int:
        before = self._restarts.get(name)
        if before is None:
            return count if created_at >= self._started else 0
        return max(0, count - before)

    def _session_counts(self) -> Counter[tuple[int, str]]:
        server = self._gateway()
        if server is None:
            return Counter()
        return Counter((s.deployment_id, s.instance_id) for s in server.gateway.list_sessions())
