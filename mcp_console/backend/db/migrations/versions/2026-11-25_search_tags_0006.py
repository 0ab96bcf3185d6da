"""search tags

On PostgreSQL, a GIN index on ``mcp_services.tags`` so that ``tag:`` filters read only the
tagged services' rows (``tags @> '["x"]'``) instead of joining ``service_tags`` against a
scan of every published service. SQLite keeps filtering through ``service_tags``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 20:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_search_tags"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX {INDEX} ON mcp_services USING gin (tags jsonb_path_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX {INDEX}")
