"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 17:19:25.785332
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('admin', 'author', 'user')", name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_keys_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_prefix"), ["prefix"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_keys_user_id"), ["user_id"], unique=False)

    op.create_table(
        "mcp_services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("repository_url", sa.String(length=500), nullable=True),
        sa.Column("documentation_url", sa.String(length=500), nullable=True),
        sa.Column("icon_url", sa.String(length=500), nullable=True),
        sa.Column("readme", sa.Text(), nullable=True),
        sa.Column("price_model", sa.String(length=16), nullable=False),
        sa.Column("price_per_request", sa.Numeric(precision=12, scale=6), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("deprecation_message", sa.Text(), nullable=True),
        sa.Column("featured", sa.Boolean(), nullable=False),
        sa.Column("downloads_count", sa.BigInteger(), nullable=False),
        sa.Column("rating_average", sa.Float(), nullable=False),
        sa.Column("rating_count", sa.Integer(), nullable=False),
        sa.Column("rating_sum", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "price_model IN ('FREE', 'PAID', 'FREEMIUM')", name=op.f("ck_mcp_services_price_model")
        ),
        sa.CheckConstraint(
            "status IN ('DRAFT', 'PUBLISHED', 'DEPRECATED')", name=op.f("ck_mcp_services_status")
        ),
        sa.CheckConstraint("rating_count >= 0", name=op.f("ck_mcp_services_rating_count")),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_mcp_services_author_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mcp_services")),
        sa.UniqueConstraint("name", name=op.f("uq_mcp_services_name")),
    )
    with op.batch_alter_table("mcp_services", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mcp_services_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mcp_services_category"), ["category"], unique=False)
        batch_op.create_index("ix_mcp_services_created", ["created_at"], unique=False)
        batch_op.create_index("ix_mcp_services_downloads", ["downloads_count"], unique=False)
        batch_op.create_index("ix_mcp_services_rating", ["rating_average"], unique=False)
        batch_op.create_index(batch_op.f("ix_mcp_services_status"), ["status"], unique=False)

    op.create_table(
        "service_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_service_reviews_rating")),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["mcp_services.id"],
            name=op.f("fk_service_reviews_service_id_mcp_services"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_service_reviews_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_reviews")),
        sa.UniqueConstraint(
            "service_id", "user_id", name=op.f("uq_service_reviews_service_id_user_id")
        ),
    )
    with op.batch_alter_table("service_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_reviews_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "service_tags",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["mcp_services.id"],
            name=op.f("fk_service_tags_service_id_mcp_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("service_id", "tag", name=op.f("pk_service_tags")),
    )
    with op.batch_alter_table("service_tags", schema=None) as batch_op:
        batch_op.create_index("ix_service_tags_tag", ["tag", "service_id"], unique=False)

    op.create_table(
        "service_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("changelog", sa.Text(), nullable=False),
        sa.Column("docker_image", sa.String(length=500), nullable=True),
        sa.Column(
            "packages",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "command",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("transport", sa.String(length=32), nullable=False),
        sa.Column(
            "config_schema",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "api_spec",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "remotes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("is_latest", sa.Boolean(), nullable=False),
        sa.Column("is_prerelease", sa.Boolean(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["mcp_services.id"],
            name=op.f("fk_service_versions_service_id_mcp_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_versions")),
        sa.UniqueConstraint(
            "service_id", "version", name=op.f("uq_service_versions_service_id_version")
        ),
    )
    with op.batch_alter_table("service_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_versions_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "service_deployments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("previous_version_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("deployment_name", sa.String(length=100), nullable=False),
        sa.Column(
            "config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("desired_state", sa.String(length=16), nullable=False),
        sa.Column("endpoint_url", sa.String(length=500), nullable=True),
        sa.Column("runtime", sa.String(length=16), nullable=False),
        sa.Column("replicas", sa.Integer(), nullable=False),
        sa.Column("cpu_limit", sa.Float(), nullable=True),
        sa.Column("memory_limit_mb", sa.Integer(), nullable=True),
        sa.Column("session_mode", sa.String(length=16), nullable=False),
        sa.Column(
            "autoscale",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("replicas >= 0", name=op.f("ck_service_deployments_replicas")),
        sa.ForeignKeyConstraint(
            ["previous_version_id"],
            ["service_versions.id"],
            name=op.f("fk_service_deployments_previous_version_id_service_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["mcp_services.id"],
            name=op.f("fk_service_deployments_service_id_mcp_services"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_service_deployments_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["service_versions.id"],
            name=op.f("fk_service_deployments_version_id_service_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_deployments")),
        sa.UniqueConstraint(
            "user_id",
            "deployment_name",
            name=op.f("uq_service_deployments_user_id_deployment_name"),
        ),
    )
    with op.batch_alter_table("service_deployments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_deployments_service_id"), ["service_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_deployments_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "service_instances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("container_id", sa.String(length=128), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("health_check_url", sa.String(length=500), nullable=True),
        sa.Column("last_health_check", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("stderr_tail", sa.Text(), nullable=True),
        sa.Column("restart_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["service_deployments.id"],
            name=op.f("fk_service_instances_deployment_id_service_deployments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["service_versions.id"],
            name=op.f("fk_service_instances_version_id_service_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_instances")),
    )
    with op.batch_alter_table("service_instances", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_instances_deployment_id"), ["deployment_id"], unique=False
        )

    op.create_table(
        "service_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("request_count", sa.BigInteger(), nullable=False),
        sa.Column("response_time_avg", sa.Float(), nullable=False),
        sa.Column("error_count", sa.BigInteger(), nullable=False),
        sa.Column("data_transfer_mb", sa.Float(), nullable=False),
        sa.Column("cost", sa.Numeric(precision=14, scale=6), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["service_deployments.id"],
            name=op.f("fk_service_usage_deployment_id_service_deployments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_service_usage_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_usage")),
        sa.UniqueConstraint(
            "deployment_id",
            "user_id",
            "date",
            name=op.f("uq_service_usage_deployment_id_user_id_date"),
        ),
    )
    with op.batch_alter_table("service_usage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_usage_user_id"), ["user_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("service_usage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_usage_user_id"))

    op.drop_table("service_usage")
    with op.batch_alter_table("service_instances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_instances_deployment_id"))

    op.drop_table("service_instances")
    with op.batch_alter_table("service_deployments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_deployments_user_id"))
        batch_op.drop_index(batch_op.f("ix_service_deployments_service_id"))

    op.drop_table("service_deployments")
    with op.batch_alter_table("service_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_versions_service_id"))

    op.drop_table("service_versions")
    with op.batch_alter_table("service_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_service_tags_tag")

    op.drop_table("service_tags")
    with op.batch_alter_table("service_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_reviews_service_id"))

    op.drop_table("service_reviews")
    with op.batch_alter_table("mcp_services", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mcp_services_status"))
        batch_op.drop_index("ix_mcp_services_rating")
        batch_op.drop_index("ix_mcp_services_downloads")
        batch_op.drop_index("ix_mcp_services_created")
        batch_op.drop_index(batch_op.f("ix_mcp_services_category"))
        batch_op.drop_index(batch_op.f("ix_mcp_services_author_id"))

    op.drop_table("mcp_services")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_user_id"))
        batch_op.drop_index(batch_op.f("ix_api_keys_prefix"))

    op.drop_table("api_keys")
    op.drop_table("users")
