"""audit

``audit_events``: the append-only audit trail, one row per change (who, when, what, the
change without secret values, from where) and per tool call through the gateway.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-09 15:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=True),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=True),
        sa.Column("deployment", sa.String(length=100), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("detail", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_user_at", "audit_events", ["user_id", "at"])
    op.create_index("ix_audit_events_owner_at", "audit_events", ["owner_id", "at"])
    op.create_index("ix_audit_events_deployment_at", "audit_events", ["deployment", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_deployment_at", table_name="audit_events")
    op.drop_index("ix_audit_events_owner_at", table_name="audit_events")
    op.drop_index("ix_audit_events_user_at", table_name="audit_events")
    op.drop_index("ix_audit_events_at", table_name="audit_events")
    op.drop_table("audit_events")
