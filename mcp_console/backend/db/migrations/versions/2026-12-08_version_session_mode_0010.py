"""version session mode

``service_versions.session_mode``: what the server's author says about sharing one
connection between clients: ``shared`` (stateless: one connection may serve them all),
``per-session`` (stateful) or NULL (said nothing: a stdio server then counts as stateful).
Existing versions said nothing.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A native ADD COLUMN, never a batch copy (on SQLite that would DROP the table).
    op.add_column(
        "service_versions", sa.Column("session_mode", sa.String(length=16), nullable=True)
    )


def downgrade() -> None:
    # DROP COLUMN is native on SQLite 3.35+ and on PostgreSQL.
    op.drop_column("service_versions", "session_mode")
