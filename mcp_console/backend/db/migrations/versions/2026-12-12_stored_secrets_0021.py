"""stored secrets, settings changed at

``stored_secrets``: each user's named secrets (encrypted), which deployments reference;
``service_deployments.settings_changed_at``: when a deployment's settings last changed, so
that instances started before then are replaced.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-12 00:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stored_secrets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_stored_secrets_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_secrets")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_stored_secrets_user_id_name")),
    )
    op.create_index(op.f("ix_stored_secrets_user_id"), "stored_secrets", ["user_id"], unique=False)
    # A plain nullable column: SQLite adds it in place (no copy of the table).
    op.add_column(
        "service_deployments",
        sa.Column("settings_changed_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("service_deployments") as batch:
        batch.drop_column("settings_changed_at")
    op.drop_index(op.f("ix_stored_secrets_user_id"), table_name="stored_secrets")
    op.drop_table("stored_secrets")
