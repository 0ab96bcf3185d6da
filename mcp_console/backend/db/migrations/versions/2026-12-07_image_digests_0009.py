"""image digests

``service_deployments.image_digests``: the digest each version of a deployment ran first,
so that restarts and rollbacks run it again after its tag moved; ``service_instances.
image_digest``: what each instance runs; ``deployment_registry_logins``: the credentials a
deployment pulls with, the password encrypted. Existing deployments have pinned nothing.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 15:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEPLOYMENTS = "service_deployments"
INSTANCES = "service_instances"
LOGINS = "deployment_registry_logins"


def upgrade() -> None:
    # Native ADD COLUMNs, never a batch copy: on SQLite that would DROP the tables, and the
    # DROP would delete (by cascade) the rows of the tables referencing them.
    op.add_column(
        DEPLOYMENTS,
        sa.Column(
            "image_digests",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            server_default=sa.text("'{}'"),
        ),
    )
    if op.get_context().dialect.name != "sqlite":
        # The models give the default; SQLite cannot drop a column default in place.
        op.alter_column(DEPLOYMENTS, "image_digests", server_default=None)
    op.add_column(INSTANCES, sa.Column("image_digest", sa.String(length=500), nullable=True))
    op.create_table(
        LOGINS,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("registry", sa.String(length=255), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            [f"{DEPLOYMENTS}.id"],
            name=op.f("fk_deployment_registry_logins_deployment_id_service_deployments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment_registry_logins")),
        sa.UniqueConstraint(
            "deployment_id",
            "registry",
            name=op.f("uq_deployment_registry_logins_deployment_id_registry"),
        ),
    )
    op.create_index(op.f("ix_deployment_registry_logins_deployment_id"), LOGINS, ["deployment_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_deployment_registry_logins_deployment_id"), table_name=LOGINS)
    op.drop_table(LOGINS)
    # DROP COLUMN is native on SQLite 3.35+ and on PostgreSQL.
    op.drop_column(INSTANCES, "image_digest")
    op.drop_column(DEPLOYMENTS, "image_digests")
