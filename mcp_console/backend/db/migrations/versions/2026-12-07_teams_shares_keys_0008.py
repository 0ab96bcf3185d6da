"""teams, shares and keys

Teams and their members; deployment shares with a role, to a user or a team (the old
user-only table was never written, so it is replaced); API keys that expire or are scoped
to some deployments.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("name", name=op.f("uq_teams_name")),
    )
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('member', 'maintainer')", name=op.f("ck_team_members_role")),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_team_members_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_team_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_team_members")),
    )
    op.create_index(op.f("ix_team_members_user_id"), "team_members", ["user_id"])

    op.drop_index(op.f("ix_deployment_shares_user_id"), table_name="deployment_shares")
    op.drop_table("deployment_shares")
    op.create_table(
        "deployment_shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('caller', 'operator')", name=op.f("ck_deployment_shares_role")
        ),
        sa.CheckConstraint(
            "(user_id IS NULL) <> (team_id IS NULL)", name=op.f("ck_deployment_shares_one_grantee")
        ),
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
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_deployment_shares_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment_shares")),
        sa.UniqueConstraint(
            "deployment_id", "user_id", name=op.f("uq_deployment_shares_deployment_id_user_id")
        ),
        sa.UniqueConstraint(
            "deployment_id", "team_id", name=op.f("uq_deployment_shares_deployment_id_team_id")
        ),
    )
    for column in ("deployment_id", "user_id", "team_id"):
        op.create_index(op.f(f"ix_deployment_shares_{column}"), "deployment_shares", [column])

    # Native ADD COLUMNs, never a batch copy (that would drop api_keys on SQLite).
    op.add_column("api_keys", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "api_keys", sa.Column("scoped", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.create_index(op.f("ix_api_keys_revoked_at"), "api_keys", ["revoked_at"])
    op.create_table(
        "api_key_deployments",
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["api_keys.id"],
            name=op.f("fk_api_key_deployments_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["service_deployments.id"],
            name=op.f("fk_api_key_deployments_deployment_id_service_deployments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key_id", "deployment_id", name=op.f("pk_api_key_deployments")),
    )
    op.create_index(
        op.f("ix_api_key_deployments_deployment_id"), "api_key_deployments", ["deployment_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_api_key_deployments_deployment_id"), table_name="api_key_deployments")
    op.drop_table("api_key_deployments")
    op.drop_index(op.f("ix_api_keys_revoked_at"), table_name="api_keys")
    # DROP COLUMN is native on SQLite 3.35+ and on PostgreSQL.
    op.drop_column("api_keys", "scoped")
    op.drop_column("api_keys", "expires_at")
    for column in ("team_id", "user_id", "deployment_id"):
        op.drop_index(op.f(f"ix_deployment_shares_{column}"), table_name="deployment_shares")
    op.drop_table("deployment_shares")
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
    op.drop_index(op.f("ix_team_members_user_id"), table_name="team_members")
    op.drop_table("team_members")
    op.drop_table("teams")
