"""audit arguments

``service_deployments.audit_arguments``: what the audit trail keeps of each tool call's
arguments (``digest``, ``redacted`` or ``none``).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-10 19:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain column with a default: SQLite adds it in place (no copy of the table).
    op.add_column(
        "service_deployments",
        sa.Column("audit_arguments", sa.String(length=8), nullable=False, server_default="digest"),
    )


def downgrade() -> None:
    op.drop_column("service_deployments", "audit_arguments")
