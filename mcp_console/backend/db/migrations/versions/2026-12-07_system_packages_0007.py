"""system packages

``service_versions.system_packages``: the Debian packages a version needs beside its own
(installed into the images the console builds for it). Existing versions need none.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "service_versions"
COLUMN = "system_packages"


def upgrade() -> None:
    # A native ADD COLUMN, never a batch copy: on SQLite that would DROP service_versions,
    # and the DROP would delete (by cascade) the rows of the tables referencing it.
    op.add_column(
        TABLE,
        sa.Column(
            COLUMN,
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            server_default=sa.text("'[]'"),
        ),
    )
    if op.get_context().dialect.name != "sqlite":
        # The models give the default; SQLite cannot drop a column default in place.
        op.alter_column(TABLE, COLUMN, server_default=None)


def downgrade() -> None:
    op.drop_column(TABLE, COLUMN)
