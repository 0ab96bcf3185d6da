"""The metrics history's SQL: batches added to 10-second rows, rollups into coarser tiers,
retention per tier."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Table,
    case,
    delete,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from mcp_console.backend.db.models_history import (
    TRAFFIC_SUMS,
    metrics_instances,
    metrics_rollups,
    metrics_traffic,
)
from mcp_console.backend.monitor.history_recorder import RAW_TIER, HistoryBatch

# Bucket widths (seconds), finest first: each coarser tier is summed from the one before.
TIERS = (RAW_TIER, 60, 3600)
TRAFFIC_KEY = ("deployment_id", "tier", "grain", "bucket", "instance", "tool", "user_id")
GAUGE_KEY = ("deployment_id", "tier", "bucket", "instance")
# Per gauge column: how two rows of one instance and bucket combine.
GAUGE_MERGE = {
    "in_flight_max": "max",
    "sessions_max": "max",
    "restarts": "sum",
    "cpu_sum": "sum",
    "cpu_n": "sum",
    "cpu_max": "max",
    "memory_sum": "sum",
    "memory_n": "sum",
    "memory_max": "max",
}


class RollupRaced(Exception):
    """Another backend rolled the same tier up meanwhile: this transaction is given up."""


def step_of(column: ColumnElement[int], width: int) -> ColumnElement[int]:
    """``column`` (a bucket start) brought down to the start of its ``width``-second step.

    The width is written into the SQL rather than bound: PostgreSQL must see the grouping
    expression of a SELECT and of its GROUP BY as the same text.
    """
    step = literal_column(str(int(width)), Integer)
    return column - column % step


async def write_batch(conn: AsyncConnection, batch: HistoryBatch) -> None:
    """Add ``batch`` to its 10-second rows (created where missing), in ``conn``'s transaction.

    One statement per table whatever the batch holds; rows in key order, so that two
    writers never wait on each other in opposite orders.
    """
    dialect = conn.dialect.name
    if batch.traffic:
        rows = [
            {
                **dict(zip(TRAFFIC_KEY, (d, RAW_TIER, g, b, i, t, u), strict=True)),
                **dict(zip(TRAFFIC_SUMS, counts, strict=True)),
            }
            for (d, b, g, i, t, u), counts in sorted(batch.traffic.items())
        ]
        await conn.execute(_traffic_upsert(dialect), rows)
    if batch.gauges:
        gauges = [
            {
                **dict(zip(GAUGE_KEY, (d, RAW_TIER, b, i), strict=True)),
                **{name: getattr(g, name) for name in GAUGE_MERGE},
            }
            for (d, b, i), g in sorted(batch.gauges.items())
        ]
        await conn.execute(_gauge_upsert(dialect), gauges)


def _upsert(dialect: str, table: Table) -> Any:
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def _traffic_upsert(dialect: str) -> Any:
    stmt = _upsert(dialect, metrics_traffic)
    col, new = metrics_traffic.c, stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=[col[name] for name in TRAFFIC_KEY],
        set_={name: col[name] + new[name] for name in TRAFFIC_SUMS},
    )


def _gauge_upsert(dialect: str) -> Any:
    stmt = _upsert(dialect, metrics_instances)
    col, new = metrics_instances.c, stmt.excluded

    def merged(name: str) -> ColumnElement[Any]:
        if GAUGE_MERGE[name] == "sum":
            summed: ColumnElement[Any] = col[name] + new[name]
            return summed
        # The larger of the two; a NULL on either side (no reading) yields the other.
        return func.coalesce(case((new[name] > col[name], new[name]), else_=col[name]), new[name])

    return stmt.on_conflict_do_update(
        index_elements=[col[name] for name in GAUGE_KEY],
        set_={name: merged(name) for name in GAUGE_MERGE},
    )


async def watermarks(conn: AsyncConnection) -> dict[int, int]:
    """Per coarser tier, the time (epoch seconds) up to which it holds the finer one's sums."""
    rows = await conn.execute(select(metrics_rollups.c.tier, metrics_rollups.c.done_until))
    return {int(tier): int(done) for tier, done in rows}


async def roll_up(conn: AsyncConnection, source: int, target: int, cutoff: int) -> int:
    """Sum the ``source`` tier's buckets before ``cutoff`` (a multiple of ``target``) into
    ``target``-second buckets, from where the last rollup stopped.

    Idempotent through a watermark rather than an upsert: an additive upsert of the same
    source rows twice (a rollup run again, or by a second backend on the same database)
    would count them twice, and a replacing one would lose the source rows retention has
    already removed. The sums and the moved watermark commit together, the watermark moves
    only from the value read (compare and set), and the target rows cannot exist yet, so a
    plain INSERT fails rather than double counts if that were ever wrong.

    Returns:
        The watermark now (``cutoff``, or where it already was).

    Raises:
        RollupRaced: another backend moved the watermark meanwhile.
    """
    current = await conn.scalar(
        select(metrics_rollups.c.done_until).where(metrics_rollups.c.tier == target)
    )
    start = current or 0
    if cutoff <= start:
        return start
    for table, sums in (
        (metrics_traffic, dict.fromkeys(TRAFFIC_SUMS, "sum")),
        (metrics_instances, GAUGE_MERGE),
    ):
        await _sum_into(conn, table, sums, source, target, start, cutoff)
    if current is None:
        await conn.execute(insert(metrics_rollups).values(tier=target, done_until=cutoff))
    else:
        moved = await conn.execute(
            update(metrics_rollups)
            .where(metrics_rollups.c.tier == target, metrics_rollups.c.done_until == current)
            .values(done_until=cutoff)
        )
        if moved.rowcount != 1:
            raise RollupRaced(f"tier {target} was rolled up by another backend")
    return cutoff


async def _sum_into(
    conn: AsyncConnection,
    table: Table,
    sums: dict[str, str],
    source: int,
    target: int,
    start: int,
    cutoff: int,
) -> None:
    col = table.c
    names = list(TRAFFIC_KEY if table is metrics_traffic else GAUGE_KEY)
    step = step_of(col.bucket, target)
    groups = [col[name] for name in names if name not in ("tier", "bucket")]
    keys = [
        literal_column(str(int(target)), Integer)
        if n == "tier"
        else step
        if n == "bucket"
        else col[n]
        for n in names
    ]
    values = [
        (func.sum if how == "sum" else func.max)(col[name]).label(name)
        for name, how in sums.items()
    ]
    query = (
        select(*keys, *values)
        .where(col.tier == source, col.bucket >= start, col.bucket < cutoff)
        .group_by(*groups, step)
    )
    names += list(sums)
    await conn.execute(insert(table).from_select(names, query))


async def purge(conn: AsyncConnection, tier: int, before: int) -> int:
    """Delete the ``tier``'s buckets that start before ``before``.

    Returns:
        How many rows went.
    """
    deleted = 0
    for table in (metrics_traffic, metrics_instances):
        result = await conn.execute(
            delete(table).where(table.c.tier == tier, table.c.bucket < before)
        )
        deleted += result.rowcount
    return deleted
