"""The figures alert rules compare: per deployment, from the metrics history and from now."""

# Traffic and instance figures over a rule's window are summed from the metrics history
# (one query per distinct window and table, for every deployment at once); the state of the
# instances is read as it is now. A figure that cannot be told (no requests, so no error
# rate or latency) is absent, and a rule on it does not hold.

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from mcp_console.backend.db.models import ServiceDeployment, ServiceInstance, User
from mcp_console.backend.db.models_drift import DefinitionFinding
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
_STATE_METRICS = frozenset({"instances_unavailable", "crash_looping", "definition_drift"})
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
    deployments: Iterable[int],
) -> dict[tuple[str, int], dict[int, float]]:
    """Each wanted ``(metric, window_s)``'s value per deployment id (absent: unknown).

    One query per table and tier, for every window and deployment at once: a rule set of
    any size costs the same statements.
    """
    wanted = set(wanted)
    ids = sorted(set(deployments))
    out: dict[tuple[str, int], dict[int, float]] = {key: {} for key in wanted}
    by_tier: dict[int, set[int]] = {}
    for metric, window in wanted:
        if metric not in _STATE_METRICS:
            by_tier.setdefault(_tier_for(window, tiers), set()).add(window)
    end = int(now.timestamp())
    for tier, window_set in by_tier.items():
        windows = sorted(window_set)
        metrics = {m for m, w in wanted if w in window_set}
        found: dict[int, dict[int, Figures]] = {}
        if ids and metrics - _INSTANCE_METRICS - _STATE_METRICS:
            found = await _traffic(conn, tier, windows, end, ids)
        if ids and metrics & _INSTANCE_METRICS:
            for window, per_dep in (await _instances(conn, tier, windows, end, ids)).items():
                for dep, extra in per_dep.items():
                    found.setdefault(window, {}).setdefault(dep, {}).update(extra)
        for (metric, window), per_deployment in out.items():
            for dep, figures_of in found.get(window, {}).items():
                if metric in figures_of:
                    per_deployment[dep] = figures_of[metric]
    if ids and any(m in _STATE_METRICS for m, _ in wanted):
        for dep, values in (await _states(conn)).items():
            for (metric, _window), found_values in out.items():
                if metric in values:
                    found_values[dep] = values[metric]
    return out


def _tier_for(window_s: int, tiers: tuple[Tier, ...]) -> int:
    """The finest tier that still holds the whole window."""
    for tier in sorted(tiers, key=lambda t: t.width_s):
        if tier.keeps.total_seconds() >= window_s:
            return tier.width_s
    return max(t.width_s for t in tiers)


def _band(bucket: ColumnElement[int], end: int, windows: list[int]) -> ColumnElement[int]:
    """Which of the nested windows (shortest first) a bucket falls in first: 0 for the
    shortest, ... — each row is summed once, into its band, and windows add bands up."""
    return case(*((bucket >= end - w, index) for index, w in enumerate(windows)), else_=-1)


def _cumulative(bands: dict[int, list[float]], count: int) -> list[list[float]]:
    """Each window's sums from its bands (window i holds bands 0..i)."""
    width = len(next(iter(bands.values())))
    running = [0.0] * width
    out = []
    for index in range(count):
        for position, value in enumerate(bands.get(index, [0.0] * width)):
            running[position] += value
        out.append(list(running))
    return out


async def _traffic(
    conn: AsyncConnection, tier: int, windows: list[int], end: int, ids: list[int]
) -> dict[int, dict[int, Figures]]:
    t = metrics_traffic.c
    band = _band(t.bucket, end, windows).label("band")
    rows = await conn.execute(
        select(
            t.deployment_id,
            band,
            func.sum(t.requests),
            func.sum(t.errors_rpc + t.errors_http + t.errors_refused),
            *(func.sum(t[name]) for name in HISTOGRAM_COLUMNS),
        )
        .where(
            t.deployment_id.in_(ids),
            t.tier == tier,
            t.grain == Grain.TOTAL,
            t.bucket >= end - windows[-1],
        )
        .group_by(t.deployment_id, band)
    )
    bands: dict[int, dict[int, list[float]]] = {}
    for row in rows:
        bands.setdefault(row[0], {})[row[1]] = [float(v or 0) for v in row[2:]]
    out: dict[int, dict[int, Figures]] = {}
    for dep, found in bands.items():
        for window, sums in zip(windows, _cumulative(found, len(windows)), strict=True):
            requests, errors = int(sums[0]), int(sums[1])
            values: Figures = {"requests_per_s": requests / window, "errors": float(errors)}
            if requests:
                values["error_rate"] = errors / requests
                counts = [int(c) for c in sums[2:]]
                for metric, q in _PERCENTILES.items():
                    value = percentile(counts, q)
                    if value is not None:
                        values[metric] = value
            out.setdefault(window, {})[dep] = values
    return out


async def _instances(
    conn: AsyncConnection, tier: int, windows: list[int], end: int, ids: list[int]
) -> dict[int, dict[int, Figures]]:
    i = metrics_instances.c
    band = _band(i.bucket, end, windows).label("band")
    rows = await conn.execute(
        select(
            i.deployment_id,
            band,
            func.sum(i.restarts),
            func.sum(i.cpu_sum),
            func.sum(i.cpu_n),
            func.max(i.memory_max),
        )
        .where(i.deployment_id.in_(ids), i.tier == tier, i.bucket >= end - windows[-1])
        .group_by(i.deployment_id, band)
    )
    bands: dict[int, dict[int, list[float | None]]] = {}
    for dep, index, restarts, cpu_sum, cpu_n, memory_max in rows:
        bands.setdefault(dep, {})[index] = [restarts, cpu_sum, cpu_n, memory_max]
    out: dict[int, dict[int, Figures]] = {}
    for dep, found in bands.items():
        restarts = cpu_sum = cpu_n = 0.0
        memory: float | None = None
        for index, window in enumerate(windows):
            part = found.get(index)
            if part is not None:
                restarts += float(part[0] or 0)
                cpu_sum += float(part[1] or 0)
                cpu_n += float(part[2] or 0)
                if part[3] is not None:
                    memory = max(memory or 0.0, float(part[3]))
            values: Figures = {"restarts": restarts}
            if cpu_n:
                values["cpu_percent"] = cpu_sum / cpu_n
            if memory is not None:
                values["memory_mb"] = memory
            out.setdefault(window, {})[dep] = values
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
        dep: {"instances_unavailable": float(n), "crash_looping": 0.0, "definition_drift": 0.0}
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
    # Definitions of the version each one serves that differ from the approved ones.
    f = DefinitionFinding
    for dep, count in await conn.execute(
        select(f.deployment_id, func.count())
        .join(d, (d.id == f.deployment_id) & (d.version_id == f.version_id))
        .where(d.desired_state == DesiredState.RUNNING.value, f.approved_at.is_(None))
        .group_by(f.deployment_id)
    ):
        out[dep]["definition_drift"] = float(count)
    return out
