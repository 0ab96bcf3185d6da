"""The figures alert rules compare: per deployment, from the metrics history and from now."""

# Traffic and instance figures over a rule's window are summed from the metrics history
# (one query per table, for every window and deployment at once; ``window_spans`` says
# which tiers answer a window); the state of the instances is read as it is now. A figure
# that cannot be told (no requests, so no error rate or latency) is absent, and a rule on
# it does not hold.

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    Table,
    bindparam,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from mcp_console.backend.db.models import ServiceDeployment, ServiceInstance, User
from mcp_console.backend.db.models_drift import DefinitionFinding
from mcp_console.backend.db.models_history import (
    HISTOGRAM_COLUMNS,
    Grain,
    metrics_instances,
    metrics_traffic,
)
from mcp_console.backend.monitor.alert_windows import Tier, window_spans
from mcp_console.backend.monitor.history_plan import Segment
from mcp_console.backend.monitor.history_store import watermarks
from mcp_console.backend.monitor.latency_histogram import percentiles
from mcp_console.schemas.deploy import DesiredState, HealthState, InstanceStatus

# Restarts in a row after which an instance counts as crash-looping before it is given up on.
CRASH_LOOP_RESTARTS = 2
_STATE_METRICS = frozenset({"instances_unavailable", "crash_looping", "definition_drift"})
_INSTANCE_METRICS = frozenset({"restarts", "cpu_percent", "memory_mb"})
_PERCENTILES = {"p50_ms": 0.5, "p95_ms": 0.95, "p99_ms": 0.99}

Figures = dict[str, float]


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

    One query per table for every window and deployment at once: a rule set of any size
    costs the same statements.
    """
    wanted = set(wanted)
    ids = sorted(set(deployments))
    out: dict[tuple[str, int], dict[int, float]] = {key: {} for key in wanted}
    measured = {(m, w) for m, w in wanted if m not in _STATE_METRICS}
    end = int(now.timestamp())
    marks = await watermarks(conn) if ids and measured else {}
    traffic = sorted({w for m, w in measured if m not in _INSTANCE_METRICS})
    held = sorted({w for m, w in measured if m in _INSTANCE_METRICS})
    found: dict[int, dict[int, Figures]] = {}
    if ids and traffic:
        found = await _traffic(conn, _spans(traffic, end, tiers, marks), ids)
    if ids and held:
        for window, per_dep in (
            await _instances(conn, _spans(held, end, tiers, marks), ids)
        ).items():
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


_Spans = list[tuple[int, Segment]]
_Shape = tuple[tuple[int, int], ...]


def _spans(windows: list[int], end: int, tiers: tuple[Tier, ...], marks: dict[int, int]) -> _Spans:
    """Every window's spans, each beside its window."""
    return [(w, span) for w in windows for span in window_spans(w, end, tiers, marks)]


def _parts(table: Table, shape: _Shape, *columns: ColumnElement[Any]) -> Subquery:
    """The rows of each span, labelled with their window (a row in two windows is read
    twice, once for each); the deployments and the spans' bounds are parameters."""
    col = table.c
    grain = [col.grain == Grain.TOTAL] if "grain" in col else []
    parts = [
        select(literal(window).label("window"), col.deployment_id, *columns).where(
            col.deployment_id.in_(bindparam("ids", expanding=True)),
            col.tier == tier,
            *grain,
            col.bucket >= bindparam(f"start{n}"),
            col.bucket < bindparam(f"end{n}"),
        )
        for n, (window, tier) in enumerate(shape)
    ]
    return union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()


def _params(spans: _Spans, ids: list[int]) -> dict[str, Any]:
    """The deployments and the bounds of each span, for a statement of ``_parts``."""
    params: dict[str, Any] = {"ids": ids}
    for n, (_window, span) in enumerate(spans):
        params |= {f"start{n}": span.start, f"end{n}": span.end}
    return params


def _shape(spans: _Spans) -> _Shape:
    return tuple((window, span.tier) for window, span in spans)


# Built once per shape (windows and tiers) and reused: for a statement of this size,
# building it again costs about as much as the database takes to run it.
@functools.lru_cache(maxsize=64)
def _traffic_statement(shape: _Shape) -> Select[Any]:
    t = metrics_traffic.c
    errors = (t.errors_rpc + t.errors_http + t.errors_refused).label("errors")
    histogram = (t[n] for n in HISTOGRAM_COLUMNS)
    sub = _parts(metrics_traffic, shape, t.requests, errors, *histogram)
    return select(
        sub.c.window,
        sub.c.deployment_id,
        func.sum(sub.c.requests),
        func.sum(sub.c.errors),
        *(func.sum(sub.c[name]) for name in HISTOGRAM_COLUMNS),
    ).group_by(sub.c.window, sub.c.deployment_id)


@functools.lru_cache(maxsize=64)
def _instances_statement(shape: _Shape) -> Select[Any]:
    i = metrics_instances.c
    sub = _parts(metrics_instances, shape, i.restarts, i.cpu_sum, i.cpu_n, i.memory_max)
    return select(
        sub.c.window,
        sub.c.deployment_id,
        func.sum(sub.c.restarts),
        func.sum(sub.c.cpu_sum),
        func.sum(sub.c.cpu_n),
        func.max(sub.c.memory_max),
    ).group_by(sub.c.window, sub.c.deployment_id)


async def _traffic(
    conn: AsyncConnection, spans: _Spans, ids: list[int]
) -> dict[int, dict[int, Figures]]:
    rows = await conn.execute(_traffic_statement(_shape(spans)), _params(spans, ids))
    out: dict[int, dict[int, Figures]] = {}
    for window, dep, requests, errors_sum, *histogram in rows:
        requests, errors_n = int(requests or 0), int(errors_sum or 0)
        values: Figures = {"requests_per_s": requests / window, "errors": float(errors_n)}
        if requests:
            values["error_rate"] = errors_n / requests
            counts = [int(c or 0) for c in histogram]
            found = percentiles(counts, tuple(_PERCENTILES.values()))
            for metric, value in zip(_PERCENTILES, found, strict=True):
                if value is not None:
                    values[metric] = value
        out.setdefault(int(window), {})[dep] = values
    return out


async def _instances(
    conn: AsyncConnection, spans: _Spans, ids: list[int]
) -> dict[int, dict[int, Figures]]:
    rows = await conn.execute(_instances_statement(_shape(spans)), _params(spans, ids))
    out: dict[int, dict[int, Figures]] = {}
    for window, dep, restarts, cpu_sum, cpu_n, memory_max in rows:
        values: Figures = {"restarts": float(restarts or 0)}
        if cpu_n:
            values["cpu_percent"] = float(cpu_sum or 0) / float(cpu_n)
        if memory_max is not None:
            values["memory_mb"] = float(memory_max)
        out.setdefault(int(window), {})[dep] = values
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
