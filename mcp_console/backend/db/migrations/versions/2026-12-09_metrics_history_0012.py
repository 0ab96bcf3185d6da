"""metrics history

``metrics_traffic`` (requests, errors by kind, a latency histogram and bytes per deployment,
instance, tool and user, and their sums per deployment, instance, tool and user alone), ``metrics_instances`` (in flight, sessions, restarts, CPU and
memory per instance), each at three tiers of time buckets, and ``metrics_rollups`` (how far
each coarser tier has been summed from the finer one).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-09 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.sql.schema import SchemaItem

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As the models have them (h00..h15: the latency histogram's buckets).
HISTOGRAM = tuple(f"h{i:02d}" for i in range(16))
SUMS = (
    "requests",
    "errors_rpc",
    "errors_http",
    "errors_refused",
    "latency_us",
    "bytes_in",
    "bytes_out",
    *HISTOGRAM,
)


def _deployment(table: str) -> list[SchemaItem]:
    return [
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["service_deployments.id"],
            name=op.f(f"fk_{table}_deployment_id_service_deployments"),
            ondelete="CASCADE",
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "metrics_traffic",
        *_deployment("metrics_traffic"),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("grain", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("instance", sa.String(length=64), nullable=False),
        sa.Column("tool", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in SUMS),
        sa.PrimaryKeyConstraint(
            "deployment_id",
            "tier",
            "grain",
            "bucket",
            "instance",
            "tool",
            "user_id",
            name=op.f("pk_metrics_traffic"),
        ),
        # Rows in key order on SQLite: a chart reads one deployment's buckets side by side.
        sqlite_with_rowid=False,
    )
    op.create_index("ix_metrics_traffic_tier_bucket", "metrics_traffic", ["tier", "bucket"])
    op.create_table(
        "metrics_instances",
        *_deployment("metrics_instances"),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("instance", sa.String(length=64), nullable=False),
        sa.Column("in_flight_max", sa.Integer(), nullable=False),
        sa.Column("sessions_max", sa.Integer(), nullable=False),
        sa.Column("restarts", sa.Integer(), nullable=False),
        sa.Column("cpu_sum", sa.Float(), nullable=False),
        sa.Column("cpu_n", sa.Integer(), nullable=False),
        sa.Column("cpu_max", sa.Float(), nullable=True),
        sa.Column("memory_sum", sa.Float(), nullable=False),
        sa.Column("memory_n", sa.Integer(), nullable=False),
        sa.Column("memory_max", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint(
            "deployment_id", "tier", "bucket", "instance", name=op.f("pk_metrics_instances")
        ),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_metrics_instances_tier_bucket", "metrics_instances", ["tier", "bucket"])
    op.create_table(
        "metrics_rollups",
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("done_until", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tier", name=op.f("pk_metrics_rollups")),
    )


def downgrade() -> None:
    op.drop_table("metrics_rollups")
    op.drop_index("ix_metrics_instances_tier_bucket", table_name="metrics_instances")
    op.drop_table("metrics_instances")
    op.drop_index("ix_metrics_traffic_tier_bucket", table_name="metrics_traffic")
    op.drop_table("metrics_traffic")
