"""MetricsHistoryService: a deployment's kept metrics over a range, split by instance, tool or
user, and its tools' figures."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from mcp_console.backend.db.models import User
from mcp_console.backend.db.models_history import TRAFFIC_SUMS, Grain
from mcp_console.backend.deploy.deployment_record import address
from mcp_console.backend.deploy.lookup import find
from mcp_console.backend.monitor.history_plan import HistoryPlan, plan
from mcp_console.backend.monitor.history_reads import (
    ERRORS,
    HISTOGRAM,
    SUM_AT,
    Gauges,
    Sums,
    grain_sums,
    instance_gauges,
    tool_figures,
)
from mcp_console.backend.monitor.history_store import watermarks
from mcp_console.backend.monitor.latency_histogram import percentile, percentiles
from mcp_console.schemas.monitor import (
    Breakdown,
    HistorySeries,
    MetricsHistory,
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
# The grain holding each breakdown's series.
GRAINS = {
    Breakdown.INSTANCE: Grain.INSTANCE,
    Breakdown.TOOL: Grain.TOOL,
    Breakdown.USER: Grain.USER,
}
# The instance figures of a point (HistoryPoint's fields), per step.
GAUGE_FIGURES = ("in_flight_max", "sessions_max", "restarts", "cpu_percent", "memory_mb")


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
            total = (await grain_sums(conn, state.id, shape, Grain.TOTAL)).get("", {})
            by_key = await grain_sums(conn, state.id, shape, GRAINS[group]) if group else {}
            tools = await tool_figures(conn, state.id, shape)
            gauges = await instance_gauges(conn, state.id, shape)
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
    return sum(s[SUM_AT["requests"]] for s in counts.values())


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
    histogram = [
        sum(column) for column in zip(*(s[HISTOGRAM] for s in counts.values()), strict=True)
    ]
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
    p50, p95, p99 = percentiles(s[HISTOGRAM]) if s[SUM_AT["requests"]] else (None, None, None)
    return {
        "at": datetime.fromtimestamp(at, UTC),
        "requests": s[SUM_AT["requests"]],
        "errors": sum(s[ERRORS]),
        "errors_rpc": s[SUM_AT["errors_rpc"]],
        "errors_http": s[SUM_AT["errors_http"]],
        "errors_refused": s[SUM_AT["errors_refused"]],
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
        "bytes_in": s[SUM_AT["bytes_in"]],
        "bytes_out": s[SUM_AT["bytes_out"]],
        **(gauges or {}),
    }
