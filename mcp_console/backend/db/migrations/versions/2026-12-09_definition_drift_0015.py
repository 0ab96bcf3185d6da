"""definition drift

``definition_baselines``: the tools, prompts and resource templates each deployment's
version listed when it first served healthy (a canonical-JSON SHA-256 per definition);
``definition_findings``: definitions that differ from it, until an operator approves them;
``service_deployments.drift``: ``alert`` or ``block`` (hide changed and added tools).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-09 16:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    # A plain column with a default: SQLite adds it in place (no copy of the table).
    op.add_column(
        "service_deployments",
        sa.Column("drift", sa.String(length=8), nullable=False, server_default="alert"),
    )
    op.create_table(
        "definition_baselines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("definitions", JSON, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["service_deployments.id"],
            name=op.f("fk_definition_baselines_deployment_id_service_deployments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["service_versions.id"],
            name=op.f("fk_definition_baselines_version_id_service_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_definition_baselines")),
        sa.UniqueConstraint(
            "deployment_id",
            "version_id",
            name=op.f("uq_definition_baselines_deployment_id_version_id"),
        ),
    )
    op.create_table(
        "definition_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("old_definition", JSON, nullable=True),
        sa.Column("new_definition", JSON, nullable=True),
        sa.Column("new_digest", sa.String(length=64), nullable=True),
        sa.Column("diff", sa.Text(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["service_deployments.id"],
            name=op.f("fk_definition_findings_deployment_id_service_deployments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["service_versions.id"],
            name=op.f("fk_definition_findings_version_id_service_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_definition_findings")),
    )
    op.create_index(
        "ix_definition_findings_open",
        "definition_findings",
        ["deployment_id", "approved_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_definition_findings_open", table_name="definition_findings")
    op.drop_table("definition_findings")
    op.drop_table("definition_baselines")
    op.drop_column("service_deployments", "drift")
