"""MetricsHistoryService: a deployment's kept metrics over a range, split by instance, tool or
user, and its tools' figures."""

from __future__ import annotations

import functools
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
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
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from mcp_console.backend.db.models import User
from mcp_console.backend.db.models_history import (
    HISTOGRAM_COLUMNS,
    TRAFFIC_SUMS,
    Grain,
    metrics_instances,
    metrics_traffic,
)
from mcp_console.backend.deploy.deployment_record import address
from mcp_console.backend.deploy.lookup import find
from mcp_console.backend.monitor.history_plan import HistoryPlan, plan
from mcp_console.backend.monitor.history_store import GAUGE_MERGE, step_of, watermarks
from mcp_console.backend.monitor.latency_histogram import percentile, percentiles
from mcp_console.schemas.monitor import (
    Breakdown,
    HistorySeries,
    MetricsHistory,
    ToolFigures,
    breakdown_of,
    history_range,
)
from mcp_console.schemas.users import Principal
from mcp_console.settings import MonitorSettings

# Series of a breakdown beyond the busiest ones are summed into one.
MAX_SERIES = 10
OTHERS = "(others)"
# What a key of '' (or user 0) stands for, per breakdown.
UNNAMED = {
    Breakdown.INSTANCE: "(gateway)",
    Breakdown.TOOL: "(not a tool call)",
    Breakdown.USER: "(anonymous)",
}
# The grain holding each breakdown's series, and the column telling its series apart.
GRAINS = {
    Breakdown.INSTANCE: Grain.INSTANCE,
    Breakdown.TOOL: Grain.TOOL,
    Breakdown.USER: Grain.USER,
}
GRAIN_KEYS = {
    Grain.TOTAL: "tool",  # '' in every total row
    Grain.INSTANCE: "instance",
    Grain.TOOL: "tool",
    Grain.USER: "user_id",
}
_AT = {name: i for i, name in enumerate(TRAFFIC_SUMS)}
_HIST = slice(_AT[HISTOGRAM_COLUMNS[0]], None)
_ERRORS = slice(_AT["errors_rpc"], _AT["errors_refused"] + 1)
# The instance figures of a point (HistoryPoint's fields), per step.
GAUGE_FIGURES = ("in_flight_max", "sessions_max", "restarts", "cpu_percent", "memory_mb")

Sums = list[int]
Gauges = dict[str, float | None]


class MetricsHistoryService:
    """Reads the metrics history the gateway's traffic leaves (see ``HistoryWriter``).

    Users see only deployments they may see (an admin everyone's, as ``owner/name``), as
    with the live figures.

    Args:
        sessions: the database.
        settings: what each tier keeps (to choose the tier answering a range).
        clock: epoch seconds.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: MonitorSettings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._clock = clock

    async def history(
        self, actor: Principal, name: str, period: str, by: str | None = None
    ) -> MetricsHistory:
        """A deployment's requests, errors, latency, bytes and instance figures over
        ``period`` (``15m``, ``1h``, ``24h``, ``7d``, ``30d``), a point per step.

        Args:
            actor: who asks.
            name: the deployment, ``NAME`` or ``OWNER/NAME``.
            period: how far back.
            by: ``instance``, ``tool`` or ``user`` for a series each (the busiest ten, the
                rest together), or ``None``.

        Returns:
            The total series, the breakdown's series and each tool's calls, errors and
            latency percentiles over the range.

        Raises:
            Invalid: an unknown range or breakdown (``field`` says which).
            NotFound: the actor may see no deployment of that name.
        """
        chosen, group = history_range(period), breakdown_of(by)
        async with self._sessions() as session:
            state = await find(session, actor, name)
            conn = await session.connection()
            shape = plan(chosen, self._settings, await watermarks(conn), self._clock())
            total = (await _counts(conn, state.id, shape, Grain.TOTAL)).get("", {})
            by_key = await _counts(conn, state.id, shape, GRAINS[group]) if group else {}
            tools = await _tools(conn, state.id, shape)
            gauges = await _gauges(conn, state.id, shape)
            names = await _names(conn, group, by_key)
        series: list[HistorySeries] = []
        if group is not None:
            busiest = sorted(by_key, key=lambda k: (-_requests(by_key[k]), k))
            per_instance = group is Breakdown.INSTANCE
            series = [
                _series(names.get(k, k), by_key[k], shape, gauges.get(k) if per_instance else None)
                for k in busiest[:MAX_SERIES]
            ]
            if len(busiest) > MAX_SERIES:
                rest = _merge([by_key[k] for k in busiest[MAX_SERIES:]])
                series.append(_series(OTHERS, rest, shape))
        return MetricsHistory(
            deployment=address(actor, state),
            period=chosen,
            step_s=shape.step,
            start=datetime.fromtimestamp(shape.start, UTC),
            end=datetime.fromtimestamp(shape.end, UTC),
            by=group,
            total=_series("all", total, shape, _sum_gauges(gauges)),
            breakdown=series,
            tools=tools,
        )


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


async def _counts(
    conn: AsyncConnection, deployment_id: int, shape: HistoryPlan, grain: Grain
) -> dict[str, dict[int, Sums]]:
    """Per key of ``grain`` (its instance, tool or user; '' for the total), each step's sums."""
    statement = _counts_statement(grain, _tiers(shape), shape.step)
    rows = await conn.execute(statement, _params(deployment_id, shape))
    out: dict[str, dict[int, Sums]] = defaultdict(dict)
    for at, k, *sums in rows:
        out[str(k)][int(at)] = [int(v or 0) for v in sums]
    return out


async def _tools(
    conn: AsyncConnection, deployment_id: int, shape: HistoryPlan
) -> list[ToolFigures]:
    statement = _tools_statement(_tiers(shape), shape.step)
    rows = await conn.execute(statement, _params(deployment_id, shape))
    out = []
    for tool, *raw in rows:
        sums = [int(v or 0) for v in raw]
        p50, p95, p99 = percentiles(sums[_HIST])
        out.append(
            ToolFigures(
                tool=tool,
                calls=sums[_AT["requests"]],
                errors=sum(sums[_ERRORS]),
                p50_ms=p50,
                p95_ms=p95,
                p99_ms=p99,
            )
        )
    return sorted(out, key=lambda t: (-t.calls, t.tool))


async def _gauges(
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


async def _names(
    conn: AsyncConnection, group: Breakdown | None, by_key: dict[str, dict[int, Sums]]
) -> dict[str, str]:
    names = {"": UNNAMED[group]} if group is not None else {}
    if group is Breakdown.USER:
        names["0"] = UNNAMED[group]
        ids = [int(k) for k in by_key if k not in ("", "0")]
        if ids:
            rows = await conn.execute(select(User.id, User.name).where(User.id.in_(ids)))
            names.update((str(i), n) for i, n in rows)
    return names


def _requests(counts: dict[int, Sums]) -> int:
    return sum(s[_AT["requests"]] for s in counts.values())


def _merge(parts: Sequence[dict[int, Sums]]) -> dict[int, Sums]:
    out: dict[int, Sums] = {}
    for part in parts:
        for at, sums in part.items():
            mine = out.setdefault(at, [0] * len(TRAFFIC_SUMS))
            for i, value in enumerate(sums):
                mine[i] += value
    return out


def _sum_gauges(gauges: dict[str, dict[int, Gauges]]) -> dict[int, Gauges]:
    """Per step, the instances' figures together (their mean CPU and memory added up)."""
    out: dict[int, Gauges] = {}
    for per_step in gauges.values():
        for at, figures in per_step.items():
            mine = out.setdefault(at, dict.fromkeys(GAUGE_FIGURES))
            for name, value in figures.items():
                if value is not None:
                    mine[name] = (mine[name] or 0) + value
    return out


def _series(
    key: str, counts: dict[int, Sums], shape: HistoryPlan, gauges: dict[int, Gauges] | None = None
) -> HistorySeries:
    empty = [0] * len(TRAFFIC_SUMS)
    points = [_point(at, counts.get(at, empty), (gauges or {}).get(at)) for at in shape.steps]
    histogram = [sum(column) for column in zip(*(s[_HIST] for s in counts.values()), strict=True)]
    # Validated as one document: pydantic's core checks a chart's points faster than
    # building each point in Python would.
    return HistorySeries.model_validate(
        {
            "key": key,
            "requests": sum(p["requests"] for p in points),
            "errors": sum(p["errors"] for p in points),
            "p95_ms": percentile(histogram, 0.95),
            "points": points,
        }
    )


def _point(at: int, s: Sums, gauges: Gauges | None) -> dict[str, Any]:
    p50, p95, p99 = percentiles(s[_HIST]) if s[_AT["requests"]] else (None, None, None)
    return {
        "at": datetime.fromtimestamp(at, UTC),
        "requests": s[_AT["requests"]],
        "errors": sum(s[_ERRORS]),
        "errors_rpc": s[_AT["errors_rpc"]],
        "errors_http": s[_AT["errors_http"]],
        "errors_refused": s[_AT["errors_refused"]],
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
        "bytes_in": s[_AT["bytes_in"]],
        "bytes_out": s[_AT["bytes_out"]],
        **(gauges or {}),
    }
