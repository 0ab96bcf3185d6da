"""metering

The gateway's raw request log (recent requests per deployment, purged after a retention
period), and the exact sums behind ``service_usage``'s average response time and data
transfer, so that each metering batch adds to a day's row without rounding drift.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 19:02:41.518304
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "request_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(length=64), nullable=False),
        sa.Column("tool_name", sa.String(length=500), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("error", sa.Boolean(), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("bytes_in", sa.BigInteger(), nullable=False),
        sa.Column("bytes_out", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["service_deployments.id"],
            name=op.f("fk_request_log_deployment_id_service_deployments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_log")),
    )
    op.create_index("ix_request_log_deployment_at", "request_log", ["deployment_id", "at"])
    op.create_index("ix_request_log_at", "request_log", ["at"])

    # Native ADD COLUMNs (no table copy on SQLite). Existing rows get sums consistent with
    # their stored figures, so later batches keep the weighted mean right.
    op.add_column(
        "service_usage",
        sa.Column("response_time_total_us", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.add_column(
        "service_usage",
        sa.Column("data_transfer_bytes", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.execute(
        "UPDATE service_usage SET"
        " response_time_total_us = CAST(ROUND(response_time_avg * request_count * 1000) AS BIGINT),"
        " data_transfer_bytes = CAST(ROUND(data_transfer_mb * 1000000) AS BIGINT)"
    )


def downgrade() -> None:
    with op.batch_alter_table("service_usage", schema=None) as batch_op:
        batch_op.drop_column("data_transfer_bytes")
        batch_op.drop_column("response_time_total_us")

    op.drop_index("ix_request_log_at", table_name="request_log")
    op.drop_index("ix_request_log_deployment_at", table_name="request_log")
    op.drop_table("request_log")
