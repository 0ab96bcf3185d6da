"""InstanceFigures: instances' status, restarts, CPU and memory, a collector for /metrics."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.models import (
    DeploymentHistory,
    ServiceDeployment,
    ServiceInstance,
    User,
)
from mcp_console.backend.monitor.live_figures import MEASURED
from mcp_console.backend.monitor.prometheus_labels import deployment_value
from mcp_console.backend.monitor.resource_sampler import ResourceSampler
from mcp_console.schemas.deploy import InstanceStatus

MIB = 1024 * 1024
RESTART = "restart"  # the history action the controller records for each restart


@dataclass(frozen=True, slots=True)
class InstanceRow:
    """One instance as last read: its labels and figures (``None``: could not be read).

    Attributes:
        restarts: Restarts since it was last healthy (the controller's crash-loop count).
    """

    deployment: str
    instance: str
    restarts: int
    cpu_percent: float | None
    memory_bytes: float | None


@dataclass(frozen=True, slots=True)
class InstanceSnapshot:
    """Every instance not stopped, instance counts by (deployment, status), and each
    deployment's restarts ever (from its history)."""

    rows: tuple[InstanceRow, ...] = ()
    statuses: Counter[tuple[str, str]] = field(default_factory=Counter)
    restarts: Counter[str] = field(default_factory=Counter)


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
        h = DeploymentHistory
        history = (
            select(User.name.label("owner"), d.deployment_name, func.count(h.id))
            .join(d, d.id == h.deployment_id)
            .join(User, User.id == d.user_id)
            .where(h.action == RESTART)
            .group_by(User.name, d.deployment_name)
        )
        async with self._sessions() as session:
            found = (await session.execute(query)).all()
            restarted = (await session.execute(history)).all()
        measured = {
            row.instance: (row.driver, row.container_id)
            for row in found
            if row.status in MEASURED and row.driver and row.container_id
        }
        used = await self._sampler.sample(list(measured.values()))
        rows: list[InstanceRow] = []
        statuses: Counter[tuple[str, str]] = Counter()
        restarts: Counter[str] = Counter()
        for row in found:
            deployment = deployment_value(row.owner, row.deployment_name)
            statuses[(deployment, row.status.lower())] += 1
            restarts[deployment] = 0  # a deployment never restarted counts from 0
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
        for owner, name, count in restarted:
            restarts[deployment_value(owner, name)] = count
        self._snapshot = InstanceSnapshot(tuple(rows), statuses, restarts)

    def collect(self) -> Iterator[Metric]:
        """The last snapshot's figures (no I/O, safe on any thread)."""
        snapshot = self._snapshot
        labels = ("deployment", "instance_id")
        in_a_row = GaugeMetricFamily(
            "mcp_console_instance_consecutive_restarts",
            "Restarts of the instance since it was last healthy (it fails at the crash-loop "
            "limit).",
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
            in_a_row.add_metric(values, row.restarts)
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
        restarts = CounterMetricFamily(
            "mcp_console_deployment_restarts",
            "Instance restarts the controller made, as the deployment's history records them.",
            labels=("deployment",),
        )
        for deployment, count in sorted(snapshot.restarts.items()):
            restarts.add_metric((deployment,), count)
        yield from (in_a_row, cpu, memory, statuses, restarts)
