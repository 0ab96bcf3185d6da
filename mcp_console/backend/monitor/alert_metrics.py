"""The figures alert rules compare: per deployment, from the metrics history and from now."""

# Traffic and instance figures over a rule's window are summed from the metrics history
# (one query per distinct window and table, for every deployment at once); the state of the
# instances is read as it is now. A figure that cannot be told (no requests, so no error
# rate or latency) is absent, and a rule on it does not hold.

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from mcp_console.backend.db.models import ServiceDeployment, ServiceInstance, User
from mcp_console.backend.db.models_history import (
    HISTOGRAM_COLUMNS,
    Grain,
    metrics_instances,
    metrics_traffic,
)
from mcp_console.backend.monitor.latency_histogram import percentile
from mcp_console.schemas.deploy import DesiredState, HealthState, InstanceStatus

# Restarts in a row after which an instance counts as crash-looping before it is given up on.
CRASH_LOOP_RESTARTS = 2
_STATE_METRICS = frozenset({"instances_unavailable", "crash_looping"})
_INSTANCE_METRICS = frozenset({"restarts", "cpu_percent", "memory_mb"})
_PERCENTILES = {"p50_ms": 0.5, "p95_ms": 0.95, "p99_ms": 0.99}

Figures = dict[str, float]


@dataclass(frozen=True, slots=True)
class Tier:
    """A resolution of the history and how far back it reaches."""

    width_s: int
    keeps: timedelta


async def deployments_running(conn: AsyncConnection) -> dict[int, str]:
    """Deployments asked to run, by id, as ``owner/name``."""
    rows = await conn.execute(
        select(ServiceDeployment.id, User.name, ServiceDeployment.deployment_name)
        .join(User, User.id == ServiceDeployment.user_id)
        .where(ServiceDeployment.desired_state == DesiredState.RUNNING.value)
    )
    return {row[0]: f"{row[1]}/{row[2]}" for row in rows}


async def figures(
    conn: AsyncConnection,
    wanted: Iterable[tuple[str, int]],
    now: datetime,
    tiers: tuple[Tier, ...],
) -> dict[tuple[str, int], dict[int, float]]:
    """Each wanted ``(metric, window_s)``'s value per deployment id (absent: unknown)."""
    wanted = set(wanted)
    out: dict[tuple[str, int], dict[int, float]] = {key: {} for key in wanted}
    windows = {w for m, w in wanted if m not in _STATE_METRICS}
    for window in sorted(windows):
        tier = _tier_for(window, tiers)
        since = int(now.timestamp()) - window
        metrics = {m for m, w in wanted if w == window}
        if metrics - _INSTANCE_METRICS:
            for dep, values in (await _traffic(conn, tier, since, window)).items():
                for metric in metrics:
                    if metric in values:
                        out[(metric, window)][dep] = values[metric]
        if metrics & _INSTANCE_METRICS:
            for dep, values in (await _instances(conn, tier, since)).items():
                for metric in metrics & _INSTANCE_METRICS:
                    if metric in values:
                        out[(metric, window)][dep] = values[metric]
    if any(m in _STATE_METRICS for m, _ in wanted):
        for dep, values in (await _states(conn)).items():
            for (metric, _window), found in out.items():
                if metric in values:
                    found[dep] = values[metric]
    return out


def _tier_for(window_s: int, tiers: tuple[Tier, ...]) -> int:
    """The finest tier that still holds the whole window."""
    for tier in sorted(tiers, key=lambda t: t.width_s):
        if tier.keeps.total_seconds() >= window_s:
            return tier.width_s
    return max(t.width_s for t in tiers)


async def _traffic(conn: AsyncConnection, tier: int, since: int, window: int) -> dict[int, Figures]:
    t = metrics_traffic.c
    histogram = [func.sum(t[name]) for name in HISTOGRAM_COLUMNS]
    rows = await conn.execute(
        select(
            t.deployment_id,
            func.sum(t.requests),
            func.sum(t.errors_rpc + t.errors_http + t.errors_refused),
            *histogram,
        )
        .where(t.tier == tier, t.grain == Grain.TOTAL, t.bucket >= since)
        .group_by(t.deployment_id)
    )
    out: dict[int, Figures] = {}
    for row in rows:
        requests, errors = int(row[1] or 0), int(row[2] or 0)
        values: Figures = {"requests_per_s": requests / window, "errors": float(errors)}
        if requests:
            values["error_rate"] = errors / requests
            counts = [int(c or 0) for c in row[3:]]
            for metric, q in _PERCENTILES.items():
                found = percentile(counts, q)
                if found is not None:
                    values[metric] = found
        out[row[0]] = values
    return out


async def _instances(conn: AsyncConnection, tier: int, since: int) -> dict[int, Figures]:
    i = metrics_instances.c
    rows = await conn.execute(
        select(
            i.deployment_id,
            func.sum(i.restarts),
            func.sum(i.cpu_sum),
            func.sum(i.cpu_n),
            func.max(i.memory_max),
        )
        .where(i.tier == tier, i.bucket >= since)
        .group_by(i.deployment_id)
    )
    out: dict[int, Figures] = {}
    for dep, restarts, cpu_sum, cpu_n, memory_max in rows:
        values: Figures = {"restarts": float(restarts or 0)}
        if cpu_n:
            values["cpu_percent"] = float(cpu_sum) / int(cpu_n)
        if memory_max is not None:
            values["memory_mb"] = float(memory_max)
        out[dep] = values
    return out


async def _states(conn: AsyncConnection) -> dict[int, Figures]:
    d, i = ServiceDeployment, ServiceInstance
    replicas = dict(
        (
            await conn.execute(
                select(d.id, d.replicas).where(d.desired_state == DesiredState.RUNNING.value)
            )
        ).all()
    )
    out: dict[int, Figures] = {
        dep: {"instances_unavailable": float(n), "crash_looping": 0.0}
        for dep, n in replicas.items()
    }
    rows = await conn.execute(
        select(i.deployment_id, i.status, i.health, i.restart_count).where(
            i.deployment_id.in_(list(replicas))
        )
    )
    healthy: dict[int, int] = {}
    for dep, status, health, restarts in rows:
        if status == InstanceStatus.RUNNING.value and health == HealthState.HEALTHY.value:
            healthy[dep] = healthy.get(dep, 0) + 1
        looping = status == InstanceStatus.FAILED.value or (
            status == InstanceStatus.RESTARTING.value and restarts >= CRASH_LOOP_RESTARTS
        )
        if looping:
            out[dep]["crash_looping"] += 1
    for dep, n in replicas.items():
        out[dep]["instances_unavailable"] = float(max(0, n - healthy.get(dep, 0)))
    return out
