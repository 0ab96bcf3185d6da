"""quotas

``quotas``: limits on billable calls (requests per day or month, spend per month, calls
per second per tool) of users, teams, API keys and deployments; ``service_usage_hours``
gains the API key the calls were made with (0 for rows written before: no key known).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-11 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_UNIQUE = "uq_service_usage_hours_deployment_id_user_id_hour_method_tool"
# Named so: the naming convention's name would pass PostgreSQL's 63 characters.
_NEW_UNIQUE = "uq_service_usage_hours_calls"


def upgrade() -> None:
    with op.batch_alter_table("service_usage_hours", schema=None) as batch:
        batch.add_column(sa.Column("key_id", sa.Integer(), server_default="0", nullable=False))
        batch.drop_constraint(_OLD_UNIQUE, type_="unique")
        batch.create_unique_constraint(
            _NEW_UNIQUE, ["deployment_id", "user_id", "hour", "method", "tool", "key_id"]
        )
    op.create_table(
        "quotas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("allowed", sa.Numeric(precision=20, scale=10), nullable=False),
        sa.Column("tool", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "scope IN ('user', 'team', 'key', 'deployment')", name=op.f("ck_quotas_scope")
        ),
        sa.CheckConstraint("kind IN ('requests', 'spend', 'rate')", name=op.f("ck_quotas_kind")),
        sa.CheckConstraint("period IN ('second', 'day', 'month')", name=op.f("ck_quotas_period")),
        sa.CheckConstraint("allowed > 0", name=op.f("ck_quotas_allowed")),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_quotas_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quotas")),
        sa.UniqueConstraint(
            "scope",
            "subject_id",
            "kind",
            "period",
            "tool",
            name=op.f("uq_quotas_scope_subject_id_kind_period_tool"),
        ),
    )


def downgrade() -> None:
    op.drop_table("quotas")
    with op.batch_alter_table("service_usage_hours", schema=None) as batch:
        batch.drop_constraint(_NEW_UNIQUE, type_="unique")
        batch.create_unique_constraint(
            _OLD_UNIQUE, ["deployment_id", "user_id", "hour", "method", "tool"]
        )
        batch.drop_column("key_id")
