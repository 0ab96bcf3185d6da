"""usage journals

``usage_journals``: per run of the gateway's meter, the billable calls written so far
(added in each flush's transaction) and, once a later run has read the journal file of a
run killed before writing everything, the calls it served and never wrote.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-11 15:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_journals",
        sa.Column("epoch", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("written_requests", sa.BigInteger(), nullable=False),
        sa.Column("written_errors", sa.BigInteger(), nullable=False),
        sa.Column("recovered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lost_requests", sa.BigInteger(), nullable=False),
        sa.Column("lost_errors", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("epoch", name=op.f("pk_usage_journals")),
    )


def downgrade() -> None:
    op.drop_table("usage_journals")
