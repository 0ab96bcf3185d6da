"""The metrics history's reads for a chart: one statement each for a grain's series, the
tools' figures and the instances' gauges over a plan's spans."""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    Table,
    bindparam,
    false,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from mcp_console.backend.db.models_history import (
    HISTOGRAM_COLUMNS,
    TRAFFIC_SUMS,
    Grain,
    metrics_instances,
    metrics_traffic,
)
from mcp_console.backend.monitor.history_plan import HistoryPlan
from mcp_console.backend.monitor.history_store import GAUGE_MERGE, step_of
from mcp_console.backend.monitor.latency_histogram import percentiles
from mcp_console.schemas.monitor import ToolFigures

# The column telling a grain's series apart.
GRAIN_KEYS = {
    Grain.TOTAL: "tool",  # '' in every total row
    Grain.INSTANCE: "instance",
    Grain.TOOL: "tool",
    Grain.USER: "user_id",
}
# Where each counter sits in a row of sums (the order of TRAFFIC_SUMS).
SUM_AT = {name: i for i, name in enumerate(TRAFFIC_SUMS)}
HISTOGRAM = slice(SUM_AT[HISTOGRAM_COLUMNS[0]], None)
ERRORS = slice(SUM_AT["errors_rpc"], SUM_AT["errors_refused"] + 1)

Sums = list[int]
Gauges = dict[str, float | None]


def _segments(
    table: Table, tiers: tuple[int, ...], step: int, *extra: str, grain: Grain | None
) -> Subquery:
    """A deployment's rows of ``table`` over a plan's spans (one per tier), each bucket as
    its step; the deployment and the spans' bounds are bound when it runs (``_params``)."""
    col = table.c
    parts: list[Select[Any]] = [
        select(step_of(col.bucket, step).label("at"), *(col[n] for n in extra)).where(
            col.deployment_id == bindparam("deployment"),
            col.tier == tier,
            *([col.grain == int(grain)] if grain is not None else []),
            col.bucket >= bindparam(f"start{i}"),
            col.bucket < bindparam(f"end{i}"),
        )
        for i, tier in enumerate(tiers)
    ]
    if not parts:  # nothing kept yet: no row at all
        parts = [select(literal(0).label("at"), *(col[n] for n in extra)).where(false())]
    return union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()


def _params(deployment_id: int, shape: HistoryPlan) -> dict[str, int]:
    params = {"deployment": deployment_id}
    for i, segment in enumerate(shape.segments):
        params |= {f"start{i}": segment.start, f"end{i}": segment.end}
    return params


def _tiers(shape: HistoryPlan) -> tuple[int, ...]:
    return tuple(s.tier for s in shape.segments)


def _sums(sub: Subquery) -> list[ColumnElement[Any]]:
    return [func.sum(sub.c[name]) for name in TRAFFIC_SUMS]


# A chart's statements are built once per shape (grain, spans' tiers, step) and reused: for
# a statement this size, building it again would cost more than the database takes to run it.
@functools.lru_cache(maxsize=256)
def _counts_statement(grain: Grain, tiers: tuple[int, ...], step: int) -> Select[Any]:
    key = GRAIN_KEYS[grain]
    sub = _segments(metrics_traffic, tiers, step, key, *TRAFFIC_SUMS, grain=grain)
    return select(sub.c.at, sub.c[key], *_sums(sub)).group_by(sub.c.at, sub.c[key])


@functools.lru_cache(maxsize=256)
def _tools_statement(tiers: tuple[int, ...], step: int) -> Select[Any]:
    sub = _segments(metrics_traffic, tiers, step, "tool", *TRAFFIC_SUMS, grain=Grain.TOOL)
    return select(sub.c.tool, *_sums(sub)).where(sub.c.tool != "").group_by(sub.c.tool)


@functools.lru_cache(maxsize=256)
def _gauges_statement(tiers: tuple[int, ...], step: int) -> Select[Any]:
    sub = _segments(metrics_instances, tiers, step, "instance", *GAUGE_MERGE, grain=None)
    values = [
        (func.sum if how == "sum" else func.max)(sub.c[name]).label(name)
        for name, how in GAUGE_MERGE.items()
    ]
    return select(sub.c.at, sub.c.instance, *values).group_by(sub.c.at, sub.c.instance)


async def grain_sums(
    conn: AsyncConnection, deployment_id: int, shape: HistoryPlan, grain: Grain
) -> dict[str, dict[int, Sums]]:
    """Per key of ``grain`` (its instance, tool or user; '' for the total), each step's sums."""
    statement = _counts_statement(grain, _tiers(shape), shape.step)
    rows = await conn.execute(statement, _params(deployment_id, shape))
    out: dict[str, dict[int, Sums]] = defaultdict(dict)
    for at, k, *sums in rows:
        out[str(k)][int(at)] = [int(v or 0) for v in sums]
    return out


async def tool_figures(
    conn: AsyncConnection, deployment_id: int, shape: HistoryPlan
) -> list[ToolFigures]:
    statement = _tools_statement(_tiers(shape), shape.step)
    rows = await conn.execute(statement, _params(deployment_id, shape))
    out = []
    for tool, *raw in rows:
        sums = [int(v or 0) for v in raw]
        p50, p95, p99 = percentiles(sums[HISTOGRAM])
        out.append(
            ToolFigures(
                tool=tool,
                calls=sums[SUM_AT["requests"]],
                errors=sum(sums[ERRORS]),
                p50_ms=p50,
                p95_ms=p95,
                p99_ms=p99,
            )
        )
    return sorted(out, key=lambda t: (-t.calls, t.tool))


async def instance_gauges(
    conn: AsyncConnection, deployment_id: int, shape: HistoryPlan
) -> dict[str, dict[int, Gauges]]:
    statement = _gauges_statement(_tiers(shape), shape.step)
    rows = await conn.execute(statement, _params(deployment_id, shape))
    out: dict[str, dict[int, Gauges]] = defaultdict(dict)
    for row in rows.mappings():
        out[row["instance"]][int(row["at"])] = {
            "in_flight_max": int(row["in_flight_max"] or 0),
            "sessions_max": int(row["sessions_max"] or 0),
            "restarts": int(row["restarts"] or 0),
            "cpu_percent": row["cpu_sum"] / row["cpu_n"] if row["cpu_n"] else None,
            "memory_mb": row["memory_sum"] / row["memory_n"] if row["memory_n"] else None,
        }
    return out
