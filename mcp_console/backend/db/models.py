"""Every table of mcp-console, as SQLAlchemy 2 typed models."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mcp_console.backend.db.base import Base, JsonType, UtcDateTime, utcnow
from mcp_console.backend.db.models_billing import ServicePrice  # noqa: F401  (its tables)
from mcp_console.backend.db.models_drift import DefinitionBaseline  # noqa: F401  (its tables)
from mcp_console.backend.db.models_history import metrics_traffic  # noqa: F401  (its tables)
from mcp_console.backend.db.models_invoices import Invoice  # noqa: F401  (its tables)
from mcp_console.backend.db.models_metering import UsageJournal  # noqa: F401  (its tables)
from mcp_console.backend.db.models_secrets import StoredSecret  # noqa: F401  (its tables)


class User(Base):
    """A person or agent that acts on the console."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (CheckConstraint("role IN ('admin', 'author', 'user')", name="role"),)


class ApiKey(Base):
    """An API key; only its SHA-256 digest is kept, the prefix finds it."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Limited to the deployments in ``api_key_deployments`` (none left: it reaches nothing).
    scoped: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class McpService(Base):
    """A service of the catalog."""

    __tablename__ = "mcp_services"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str | None] = mapped_column(String(100), index=True, nullable=True)
    # The ordered list for display; ``service_tags`` holds the same tags, indexed, for filtering.
    tags: Mapped[list[str]] = mapped_column(JsonType, default=list)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    repository_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    documentation_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    icon_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    readme: Mapped[str | None] = mapped_column(Text, nullable=True)
    price_model: Mapped[str] = mapped_column(String(16), default="FREE")
    price_per_request: Mapped[Decimal] = mapped_column(Numeric(12, 6), default=Decimal("0"))
    status: Mapped[str] = mapped_column(String(16), default="DRAFT", index=True)
    deprecation_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    downloads_count: Mapped[int] = mapped_column(BigInteger, default=0)
    rating_average: Mapped[float] = mapped_column(Float, default=0.0)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    versions: Mapped[list[ServiceVersion]] = relationship(
        back_populates="service", cascade="all, delete-orphan", lazy="raise"
    )

    __table_args__ = (
        CheckConstraint("price_model IN ('FREE', 'PAID', 'FREEMIUM')", name="price_model"),
        CheckConstraint("status IN ('DRAFT', 'PUBLISHED', 'DEPRECATED')", name="status"),
        CheckConstraint("rating_count >= 0", name="rating_count"),
        Index("ix_mcp_services_downloads", "downloads_count"),
        Index("ix_mcp_services_rating", "rating_average"),
        Index("ix_mcp_services_created", "created_at"),
    )


class ServiceTag(Base):
    """One tag of one service: the index behind ``tag:`` filters on both databases."""

    __tablename__ = "service_tags"

    service_id: Mapped[int] = mapped_column(
        ForeignKey("mcp_services.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(100), primary_key=True)

    __table_args__ = (Index("ix_service_tags_tag", "tag", "service_id"),)


class ServiceVersion(Base):
    """A version of a service; immutable once published."""

    __tablename__ = "service_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("mcp_services.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[str] = mapped_column(String(255))
    changelog: Mapped[str] = mapped_column(Text, default="")
    docker_image: Mapped[str | None] = mapped_column(String(500), nullable=True)
    packages: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    command: Mapped[list[str]] = mapped_column(JsonType, default=list)
    transport: Mapped[str] = mapped_column(String(32), default="stdio")
    config_schema: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    api_spec: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    remotes: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    # Debian packages installed into the images built for this version.
    system_packages: Mapped[list[str]] = mapped_column(JsonType, default=list)
    # Whether one connection may serve many clients (``shared``: the server is stateless),
    # or each needs its own (``per-session``); NULL when the author said nothing.
    session_mode: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Host environment variables (CA bundles, proxies) the server receives by name.
    pass_env: Mapped[list[str]] = mapped_column(JsonType, default=list)
    is_latest: Mapped[bool] = mapped_column(Boolean, default=False)
    is_prerelease: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    service: Mapped[McpService] = relationship(back_populates="versions", lazy="raise")

    __table_args__ = (UniqueConstraint("service_id", "version"),)


class ServiceReview(Base):
    """One user's review of one service."""

    __tablename__ = "service_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("mcp_services.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (
        UniqueConstraint("service_id", "user_id"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
    )


class ServiceDeployment(Base):
    """A user's running (or stopped) copy of a service version."""

    __tablename__ = "service_deployments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("mcp_services.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("service_versions.id"))
    previous_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_versions.id"), nullable=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    deployment_name: Mapped[str] = mapped_column(String(100))
    config: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="DEPLOYING")
    desired_state: Mapped[str] = mapped_column(String(16), default="RUNNING")
    endpoint_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    runtime: Mapped[str] = mapped_column(String(16), default="auto")
    replicas: Mapped[int] = mapped_column(Integer, default=1)
    cpu_limit: Mapped[float | None] = mapped_column(Float, nullable=True)
    memory_limit_mb: Mapped[int | None] = mapped_column(Integer, nullable=True)
    session_mode: Mapped[str] = mapped_column(String(16), default="shared")
    autoscale: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    # A random id on every container label: deployment ids repeat across databases.
    uid: Mapped[str] = mapped_column(String(32), index=True, unique=True)
    # The runtime chosen for ``runtime`` (docker or process), fixed at creation.
    driver: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # The version an update is rolling out. No foreign key: adding one would make SQLite
    # copy this table, and the copy's DROP cascades into every table referencing it.
    target_version_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rollout_deadline: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The image each version ran first, by digest (``repo@sha256:…``, or the image id of one
    # that came from no registry), keyed by version id: restarts, scaling and rollbacks run
    # it again even after its tag moved.
    image_digests: Mapped[dict[str, str]] = mapped_column(JsonType, default=dict)
    # Host environment variables the owner passes to its servers by name, beside the version's.
    pass_env: Mapped[list[str]] = mapped_column(JsonType, default=list)
    # When its tool definitions drift: "alert", or "block" (hide changed tools until approved).
    drift: Mapped[str] = mapped_column(String(8), default="alert", server_default="alert")
    # What the audit trail keeps of each tool call's arguments: "digest", "redacted", "none".
    audit_arguments: Mapped[str] = mapped_column(
        String(8), default="digest", server_default="digest"
    )
    # When its settings (configuration, secrets, limits, ...) last changed: instances started
    # before then are replaced by a rolling restart.
    settings_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("user_id", "deployment_name"),
        CheckConstraint("replicas >= 0", name="replicas"),
    )


class ServiceInstance(Base):
    """One container or process serving a deployment."""

    __tablename__ = "service_instances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("service_deployments.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int | None] = mapped_column(ForeignKey("service_versions.id"), nullable=True)
    container_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    port: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="STARTING")
    health_check_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    last_health_check: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    stderr_tail: Mapped[str | None] = mapped_column(Text, nullable=True)
    restart_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The instance id on the container's labels (and in its name).
    name: Mapped[str] = mapped_column(String(64), unique=True)
    driver: Mapped[str | None] = mapped_column(String(16), nullable=True)
    health: Mapped[str] = mapped_column(String(16), default="UNKNOWN")
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    next_restart_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # The image it runs, by digest (Docker instances of a registry image).
    image_digest: Mapped[str | None] = mapped_column(String(500), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ServiceUsage(Base):
    """Daily usage of one deployment by one user: the base of billing."""

    __tablename__ = "service_usage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("service_deployments.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    request_count: Mapped[int] = mapped_column(BigInteger, default=0)
    response_time_avg: Mapped[float] = mapped_column(Float, default=0.0)
    error_count: Mapped[int] = mapped_column(BigInteger, default=0)
    data_transfer_mb: Mapped[float] = mapped_column(Float, default=0.0)
    cost: Mapped[Decimal] = mapped_column(Numeric(14, 6), default=Decimal("0"))
    date: Mapped[date] = mapped_column(Date)
    # Exact sums behind the two derived figures above, so that adding a batch keeps
    # response_time_avg an exact weighted mean and data_transfer_mb free of rounding drift.
    response_time_total_us: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    data_transfer_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    __table_args__ = (UniqueConstraint("deployment_id", "user_id", "date"),)


class DeploymentHistory(Base):
    """One change to a deployment: who, when, what, why; kept after the deployment is gone."""

    __tablename__ = "deployment_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_deployments.id", ondelete="SET NULL"), index=True, nullable=True
    )
    deployment_name: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(32))
    changes: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)


class DeploymentSecret(Base):
    """One secret of a deployment, encrypted with the console's secret key."""

    __tablename__ = "deployment_secrets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("service_deployments.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    ciphertext: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("deployment_id", "name"),)


class DeploymentRegistryLogin(Base):
    """Credentials a deployment pulls its images with from one registry; the password is
    encrypted like the deployment's secrets."""

    __tablename__ = "deployment_registry_logins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("service_deployments.id", ondelete="CASCADE"), index=True
    )
    # ``registry`` is the declarative base's own attribute: the column keeps the plain name.
    host: Mapped[str] = mapped_column("registry", String(255))
    username: Mapped[str] = mapped_column(String(255))
    ciphertext: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("deployment_id", "registry"),)


class RequestLog(Base):
    """One request seen by the gateway, as it was metered; kept for a retention period."""

    __tablename__ = "request_log"

    # BIGINT on PostgreSQL; INTEGER on SQLite, where only that is an auto-numbered rowid.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("service_deployments.id", ondelete="CASCADE")
    )
    # Plain values, no foreign keys: the log outlives instances and must never block a flush.
    instance_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    method: Mapped[str] = mapped_column(String(64))
    tool_name: Mapped[str | None] = mapped_column(String(500), nullable=True)
    status: Mapped[int] = mapped_column(Integer)
    error: Mapped[bool] = mapped_column(Boolean, default=False)
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latency_ms: Mapped[float] = mapped_column(Float)
    bytes_in: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_out: Mapped[int] = mapped_column(BigInteger, default=0)
    at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_request_log_deployment_at", "deployment_id", "at"),
        Index("ix_request_log_at", "at"),
    )


class DeploymentShare(Base):
    """A grant of a deployment to a user or a team: callers use its endpoint, operators also
    run it (scale, update, roll back, stop, logs)."""

    __tablename__ = "deployment_shares"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("service_deployments.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=True
    )
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), index=True, nullable=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("role IN ('caller', 'operator')", name="role"),
        CheckConstraint("(user_id IS NULL) <> (team_id IS NULL)", name="one_grantee"),
        UniqueConstraint("deployment_id", "user_id"),
        UniqueConstraint("deployment_id", "team_id"),
    )


class Team(Base):
    """A group of users that deployments can be shared with."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class TeamMember(Base):
    """A user in a team; maintainers may add and remove members."""

    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (CheckConstraint("role IN ('member', 'maintainer')", name="role"),)


class ApiKeyDeployment(Base):
    """A deployment a scoped API key may reach (a scoped key reaches no other)."""

    __tablename__ = "api_key_deployments"

    key_id: Mapped[int] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True
    )
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("service_deployments.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AlertTarget(Base):
    """Where alert notifications go; the URL and signing secret are encrypted (they hold
    tokens), the URL is also kept masked for listing."""

    __tablename__ = "alert_targets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    shown_url: Mapped[str] = mapped_column(Text)
    url_ciphertext: Mapped[str] = mapped_column(Text)
    secret_ciphertext: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AlertDelivery(Base):
    """One notification to one target, kept until delivered (or expired): the delivery log."""

    __tablename__ = "alert_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("alert_targets.id", ondelete="CASCADE"))
    alert: Mapped[str] = mapped_column(String(200))
    alert_state: Mapped[str] = mapped_column(String(16))
    notices: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    state: Mapped[str] = mapped_column(String(16), default="waiting")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (Index("ix_alert_deliveries_target_state", "target_id", "state", "id"),)


class AlertRule(Base):
    """A condition on a deployment metric that raises an alert; built-ins are seeded."""

    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    metric: Mapped[str] = mapped_column(String(32))
    op: Mapped[str] = mapped_column(String(2))
    threshold: Mapped[float] = mapped_column(Float)
    window_s: Mapped[int] = mapped_column(Integer)
    for_s: Mapped[int] = mapped_column(Integer, default=0)
    severity: Mapped[str] = mapped_column(String(16))
    # None: every deployment.
    deployment_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_deployments.id", ondelete="CASCADE"), nullable=True
    )
    labels: Mapped[dict[str, str]] = mapped_column(JsonType, default=dict)
    description: Mapped[str] = mapped_column(Text, default="")
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Alert(Base):
    """One rule's condition on one deployment: pending, firing, then resolved (kept as
    history)."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    deployment_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_deployments.id", ondelete="SET NULL"), nullable=True
    )
    fingerprint: Mapped[str] = mapped_column(String(64))
    labels: Mapped[dict[str, str]] = mapped_column(JsonType, default=dict)
    state: Mapped[str] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Since when the condition has not held (resolving waits ``for`` again: hysteresis).
    clear_since: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100), nullable=True)

    __table_args__ = (Index("ix_alerts_state_fingerprint", "state", "fingerprint"),)


class AlertSilence(Base):
    """Mutes notifications of alerts whose labels match, until it ends."""

    __tablename__ = "alert_silences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    matchers: Mapped[dict[str, str]] = mapped_column(JsonType)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AuditEvent(Base):
    """One change, or one tool call, as it happened: appended, never changed, removed by age.

    Plain values, no foreign keys: the trail outlives the users, deployments and objects it
    names, and a write must never wait on them.
    """

    __tablename__ = "audit_events"

    # BIGINT on PostgreSQL; INTEGER on SQLite, where only that is an auto-numbered rowid.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(64))
    # The acting user (None: the console or its controller acted by itself).
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor: Mapped[str] = mapped_column(String(100))
    # "api" (a request with a key), "local" (the CLI or the console), "gateway" (a tool
    # call); None when automatic.
    via: Mapped[str | None] = mapped_column(String(16), nullable=True)
    target: Mapped[str] = mapped_column(String(500), default="")
    deployment_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deployment: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # The deployment's owner when it happened: they see what happens to what they own.
    owner_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)

    __table_args__ = (
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_user_at", "user_id", "at"),
        Index("ix_audit_events_owner_at", "owner_id", "at"),
        Index("ix_audit_events_deployment_at", "deployment", "at"),
    )
