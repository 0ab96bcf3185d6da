"""gateway

Deployment shares: the users, besides its owner, who may call a deployment's gateway
endpoint.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 18:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deployment_shares",
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["service_deployments.id"],
            name=op.f("fk_deployment_shares_deployment_id_service_deployments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_deployment_shares_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("deployment_id", "user_id", name=op.f("pk_deployment_shares")),
    )
    op.create_index(op.f("ix_deployment_shares_user_id"), "deployment_shares", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_deployment_shares_user_id"), table_name="deployment_shares")
    op.drop_table("deployment_shares")
