"""billing prices

``service_prices``: a service's price (or one tool's) from a time on, seeded with each
service's catalog price in effect since before any usage; ``service_usage_hours``: the
meter's billable calls per deployment, user, UTC hour, method and tool.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-10 17:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The seeded prices were in effect before any usage was metered.
SINCE_ALWAYS = datetime(1970, 1, 1, tzinfo=UTC)


def upgrade() -> None:
    op.create_table(
        "service_prices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("tool", sa.String(length=200), nullable=False),
        sa.Column("price_model", sa.String(length=16), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=20, scale=10), nullable=False),
        sa.Column("free_requests", sa.BigInteger(), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "price_model IN ('FREE', 'PAID', 'FREEMIUM')",
            name=op.f("ck_service_prices_price_model"),
        ),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_service_prices_unit_price")),
        sa.CheckConstraint("free_requests >= 0", name=op.f("ck_service_prices_free_requests")),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["mcp_services.id"],
            name=op.f("fk_service_prices_service_id_mcp_services"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["set_by"],
            ["users.id"],
            name=op.f("fk_service_prices_set_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_prices")),
        sa.UniqueConstraint(
            "service_id",
            "tool",
            "effective_from",
            name=op.f("uq_service_prices_service_id_tool_effective_from"),
        ),
    )
    op.create_table(
        "service_usage_hours",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(length=64), nullable=False),
        sa.Column("tool", sa.String(length=200), nullable=False),
        sa.Column("request_count", sa.BigInteger(), nullable=False),
        sa.Column("error_count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["service_deployments.id"],
            name=op.f("fk_service_usage_hours_deployment_id_service_deployments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_service_usage_hours_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_usage_hours")),
        sa.UniqueConstraint(
            "deployment_id",
            "user_id",
            "hour",
            "method",
            "tool",
            name=op.f("uq_service_usage_hours_deployment_id_user_id_hour_method_tool"),
        ),
    )
    op.create_index("ix_service_usage_hours_user_hour", "service_usage_hours", ["user_id", "hour"])
    op.create_index("ix_service_usage_hours_hour", "service_usage_hours", ["hour"])

    # Every service keeps the price its catalog entry gives it (a FREE one costs nothing).
    services = sa.table(
        "mcp_services",
        sa.column("id", sa.Integer()),
        sa.column("price_model", sa.String()),
        sa.column("price_per_request", sa.Numeric(12, 6)),
    )
    prices = sa.table(
        "service_prices",
        sa.column("service_id", sa.Integer()),
        sa.column("tool", sa.String()),
        sa.column("price_model", sa.String()),
        sa.column("unit_price", sa.Numeric(20, 10)),
        sa.column("free_requests", sa.BigInteger()),
        sa.column("effective_from", sa.DateTime(timezone=True)),
        sa.column("set_at", sa.DateTime(timezone=True)),
    )
    since = sa.literal(SINCE_ALWAYS, sa.DateTime(timezone=True))
    op.execute(
        prices.insert().from_select(
            [
                "service_id",
                "tool",
                "price_model",
                "unit_price",
                "free_requests",
                "effective_from",
                "set_at",
            ],
            sa.select(
                services.c.id,
                sa.literal(""),
                services.c.price_model,
                sa.case((services.c.price_model == "FREE", 0), else_=services.c.price_per_request),
                sa.literal(0),
                since,
                since,
            ),
        )
    )


def downgrade() -> None:
    op.drop_index("ix_service_usage_hours_hour", table_name="service_usage_hours")
    op.drop_index("ix_service_usage_hours_user_hour", table_name="service_usage_hours")
    op.drop_table("service_usage_hours")
    op.drop_table("service_prices")
