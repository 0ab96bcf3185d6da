"""InstanceFigures: each instance's status, restarts, CPU and memory, a collector for /metrics."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.models import ServiceDeployment, ServiceInstance, User
from mcp_console.backend.monitor.live_figures import MEASURED
from mcp_console.backend.monitor.prometheus_labels import deployment_value
from mcp_console.backend.monitor.resource_sampler import ResourceSampler
from mcp_console.schemas.deploy import InstanceStatus

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class InstanceRow:
    """One instance as last read: its labels and figures (``None``: could not be read)."""

    deployment: str
    instance: str
    restarts: int
    cpu_percent: float | None
    memory_bytes: float | None


@dataclass(frozen=True, slots=True)
class InstanceSnapshot:
    """Every instance not stopped, and instance counts by (deployment, status)."""

    rows: tuple[InstanceRow, ...] = ()
    statuses: Counter[tuple[str, str]] = field(default_factory=Counter)


class InstanceFigures(Collector):
    """Instances as the deployment controller records them, with CPU and memory now.

    ``refresh()`` reads the database and the runtimes (awaiting, never blocking the loop)
    into an immutable snapshot that ``collect()`` reads from any thread. Labels:
    ``deployment`` (``owner/name``), ``instance_id`` (bounded by the instances that run;
    not ``instance``, which Prometheus gives every target) and ``status`` (the
    ``InstanceStatus`` values, lower case).

    Args:
        sessions: The database.
        sampler: CPU and memory of running instances.
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], sampler: ResourceSampler
    ) -> None:
        self._sessions = sessions
        self._sampler = sampler
        self._snapshot = InstanceSnapshot()

    async def refresh(self) -> None:
        """Read every instance that is not stopped, and what the running ones use."""
        i, d = ServiceInstance, ServiceDeployment
        query = (
            select(
                User.name.label("owner"),
                d.deployment_name,
                i.name.label("instance"),
                i.status,
                i.driver,
                i.container_id,
                i.restart_count,
            )
            .join(d, d.id == i.deployment_id)
            .join(User, User.id == d.user_id)
            .where(i.status != InstanceStatus.STOPPED.value)
        )
        async with self._sessions() as session:
            found = (await session.execute(query)).all()
        measured = {
            row.instance: (row.driver, row.container_id)
            for row in found
            if row.status in MEASURED and row.driver and row.container_id
        }
        used = await self._sampler.sample(list(measured.values()))
        rows: list[InstanceRow] = []
        statuses: Counter[tuple[str, str]] = Counter()
        for row in found:
            deployment = deployment_value(row.owner, row.deployment_name)
            statuses[(deployment, row.status.lower())] += 1
            target = measured.get(row.instance)
            use = used[target] if target is not None else None
            memory = use.memory_mb if use is not None else None
            rows.append(
                InstanceRow(
                    deployment,
                    row.instance,
                    row.restart_count,
                    use.cpu_percent if use is not None else None,
                    memory * MIB if memory is not None else None,
                )
            )
        self._snapshot = InstanceSnapshot(tuple(rows), statuses)

    def collect(self) -> Iterator[Metric]:
        """The last snapshot's figures (no I/O, safe on any thread)."""
        snapshot = self._snapshot
        labels = ("deployment", "instance_id")
        restarts = CounterMetricFamily(
            "mcp_console_instance_restarts",
            "Times the controller restarted the instance.",
            labels=labels,
        )
        cpu = GaugeMetricFamily(
            "mcp_console_instance_cpu_percent",
            "CPU the instance uses now, in percent of one core.",
            labels=labels,
        )
        memory = GaugeMetricFamily(
            "mcp_console_instance_memory_bytes",
            "Resident memory of the instance now.",
            labels=labels,
        )
        for row in snapshot.rows:
            values = (row.deployment, row.instance)
            restarts.add_metric(values, row.restarts)
            if row.cpu_percent is not None:
                cpu.add_metric(values, row.cpu_percent)
            if row.memory_bytes is not None:
                memory.add_metric(values, row.memory_bytes)
        statuses = GaugeMetricFamily(
            "mcp_console_deployment_instances",
            "Instances of each deployment by status (stopped ones excepted).",
            labels=("deployment", "status"),
        )
        for (deployment, status), count in sorted(snapshot.statuses.items()):
            statuses.add_metric((deployment, status), count)
        yield from (restarts, cpu, memory, statuses)
