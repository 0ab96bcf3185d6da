"""pass env

``service_versions.pass_env`` and ``service_deployments.pass_env``: the host environment
variables (CA bundles, proxies) a version's author or a deployment's owner asks to reach
the server by name. Existing versions and deployments ask for none.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("service_versions", "service_deployments")
COLUMN = "pass_env"


def upgrade() -> None:
    for table in TABLES:
        # A native ADD COLUMN, never a batch copy: on SQLite that would DROP the table, and
        # the DROP would delete (by cascade) the rows of the tables referencing it.
        op.add_column(
            table,
            sa.Column(
                COLUMN,
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default=sa.text("'[]'"),
            ),
        )
        if op.get_context().dialect.name != "sqlite":
            # The models give the default; SQLite cannot drop a column default in place.
            op.alter_column(table, COLUMN, server_default=None)


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, COLUMN)
