"""deployments

Deployment history and encrypted secrets; what the controller needs on deployments (a
random ``uid`` for container labels, the chosen driver, an in-flight rollout) and on
instances (the labelled instance id, driver, health, exit code, back-off).

Existing rows get a ``uid``/``name`` derived from their id before the columns become
NOT NULL, so the upgrade also works on a database that already holds deployments.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 17:44:13.279428
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "deployment_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=True),
        sa.Column("deployment_name", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("changes", JSON, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["service_deployments.id"],
            name=op.f("fk_deployment_history_deployment_id_service_deployments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_deployment_history_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment_history")),
    )
    op.create_index(
        op.f("ix_deployment_history_deployment_id"), "deployment_history", ["deployment_id"]
    )

    op.create_table(
        "deployment_secrets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["service_deployments.id"],
            name=op.f("fk_deployment_secrets_deployment_id_service_deployments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment_secrets")),
        sa.UniqueConstraint(
            "deployment_id", "name", name=op.f("uq_deployment_secrets_deployment_id_name")
        ),
    )
    op.create_index(
        op.f("ix_deployment_secrets_deployment_id"), "deployment_secrets", ["deployment_id"]
    )

    # Only native ALTERs on service_deployments: a batch copy would DROP the table, and on
    # SQLite that DROP deletes (by cascade) the rows of every table referencing it.
    op.add_column(
        "service_deployments",
        sa.Column("uid", sa.String(length=32), nullable=False, server_default=""),
    )
    op.add_column("service_deployments", sa.Column("driver", sa.String(length=16), nullable=True))
    op.add_column(
        "service_deployments", sa.Column("target_version_id", sa.Integer(), nullable=True)
    )
    op.add_column(
        "service_deployments",
        sa.Column("rollout_deadline", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column("service_deployments", sa.Column("status_reason", sa.Text(), nullable=True))
    op.execute("UPDATE service_deployments SET uid = 'd' || CAST(id AS VARCHAR(20))")
    if op.get_context().dialect.name != "sqlite":
        op.alter_column("service_deployments", "uid", server_default=None)
    op.create_index(op.f("ix_service_deployments_uid"), "service_deployments", ["uid"], unique=True)

    with op.batch_alter_table("service_instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("driver", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("health", sa.String(length=16), nullable=False, server_default="UNKNOWN")
        )
        batch_op.add_column(sa.Column("exit_code", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("next_restart_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column(
                "updated_at",
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=sa.func.current_timestamp(),
            )
        )
    op.execute("UPDATE service_instances SET name = 'i' || CAST(id AS VARCHAR(20))")
    with op.batch_alter_table("service_instances", schema=None) as batch_op:
        batch_op.alter_column("name", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("health", existing_type=sa.String(length=16), server_default=None)
        batch_op.alter_column(
            "updated_at", existing_type=sa.DateTime(timezone=True), server_default=None
        )
        batch_op.create_unique_constraint(batch_op.f("uq_service_instances_name"), ["name"])


def downgrade() -> None:
    with op.batch_alter_table("service_instances", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_service_instances_name"), type_="unique")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("next_restart_at")
        batch_op.drop_column("exit_code")
        batch_op.drop_column("health")
        batch_op.drop_column("driver")
        batch_op.drop_column("name")

    op.drop_index(op.f("ix_service_deployments_uid"), table_name="service_deployments")
    for column in ("status_reason", "rollout_deadline", "target_version_id", "driver", "uid"):
        op.drop_column("service_deployments", column)

    op.drop_index(op.f("ix_deployment_secrets_deployment_id"), table_name="deployment_secrets")
    op.drop_table("deployment_secrets")
    op.drop_index(op.f("ix_deployment_history_deployment_id"), table_name="deployment_history")
    op.drop_table("deployment_history")
