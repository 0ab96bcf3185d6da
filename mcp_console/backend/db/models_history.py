"""The tables of the metrics history: traffic and instance gauges per time bucket and tier."""

from __future__ import annotations

from enum import IntEnum

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
)

from mcp_console.backend.db.base import Base

# Upper bounds (ms) of the latency histogram's buckets; one more bucket takes the rest. Each
# bucket is a column (h00..h15) so that SQL can add histograms up exactly: changing these
# bounds needs a migration.
LATENCY_BOUNDS_MS: tuple[float, ...] = (
    1,
    2.5,
    5,
    10,
    25,
    50,
    100,
    250,
    500,
    1000,
    2500,
    5000,
    10000,
    30000,
    60000,
)
HISTOGRAM_COLUMNS: tuple[str, ...] = tuple(f"h{i:02d}" for i in range(len(LATENCY_BOUNDS_MS) + 1))
# Traffic counters that add up: requests, errors by kind, latency and bytes, then the histogram.
TRAFFIC_SUMS: tuple[str, ...] = (
    "requests",
    "errors_rpc",
    "errors_http",
    "errors_refused",
    "latency_us",
    "bytes_in",
    "bytes_out",
    *HISTOGRAM_COLUMNS,
)


class Grain(IntEnum):
    """Which counts a traffic row holds.

    ``EACH`` rows count one instance, tool and user together; the others add up every
    request of the bucket (``TOTAL``) or of one instance, tool or user, so that a chart or a
    breakdown reads a row per point and series rather than summing every combination.
    """

    EACH = 0
    TOTAL = 1
    INSTANCE = 2
    TOOL = 3
    USER = 4


def _deployment() -> Column[int]:
    # History goes with its deployment: a later deployment may be given the same id.
    return Column(
        "deployment_id",
        Integer,
        ForeignKey("service_deployments.id", ondelete="CASCADE"),
        nullable=False,
    )


# One row per deployment, tier (bucket width in seconds), grain, bucket start (epoch
# seconds), instance ('' where the gateway answered itself), tool ('' for other requests)
# and user (0 when authentication failed); a grain leaves the keys it does not split by ''
# (or 0).
metrics_traffic = Table(
    "metrics_traffic",
    Base.metadata,
    _deployment(),
    Column("tier", Integer, nullable=False),
    Column("grain", Integer, nullable=False),
    Column("bucket", BigInteger, nullable=False),
    Column("instance", String(64), nullable=False),
    Column("tool", String(200), nullable=False),
    Column("user_id", Integer, nullable=False),
    *(Column(name, BigInteger, nullable=False) for name in TRAFFIC_SUMS),
    PrimaryKeyConstraint("deployment_id", "tier", "grain", "bucket", "instance", "tool", "user_id"),
    # Rollups and retention walk one tier by time across deployments.
    Index("ix_metrics_traffic_tier_bucket", "tier", "bucket"),
    # On SQLite the rows are stored in key order: a chart reads one deployment's buckets
    # side by side instead of looking each up through the key's index.
    sqlite_with_rowid=False,
)

# One row per deployment, tier, bucket and instance: what the instance held and used. CPU and
# memory keep a sum and a count of readings (the mean of a coarser bucket stays exact) and
# the highest reading; in flight and sessions keep the highest; restarts add up.
metrics_instances = Table(
    "metrics_instances",
    Base.metadata,
    _deployment(),
    Column("tier", Integer, nullable=False),
    Column("bucket", BigInteger, nullable=False),
    Column("instance", String(64), nullable=False),
    Column("in_flight_max", Integer, nullable=False),
    Column("sessions_max", Integer, nullable=False),
    Column("restarts", Integer, nullable=False),
    Column("cpu_sum", Float, nullable=False),
    Column("cpu_n", Integer, nullable=False),
    Column("cpu_max", Float, nullable=True),
    Column("memory_sum", Float, nullable=False),
    Column("memory_n", Integer, nullable=False),
    Column("memory_max", Float, nullable=True),
    PrimaryKeyConstraint("deployment_id", "tier", "bucket", "instance"),
    Index("ix_metrics_instances_tier_bucket", "tier", "bucket"),
    sqlite_with_rowid=False,
)

# How far each coarser tier has been summed from the finer one: buckets of the finer tier
# before ``done_until`` (epoch seconds) are in the coarser tier, and none after.
metrics_rollups = Table(
    "metrics_rollups",
    Base.metadata,
    Column("tier", Integer, nullable=False),
    Column("done_until", BigInteger, nullable=False),
    PrimaryKeyConstraint("tier"),
)
