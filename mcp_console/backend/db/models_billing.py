"""The tables of billing: prices over time, hourly billable calls per tool, and quotas."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mcp_console.backend.db.base import Base, UtcDateTime, utcnow

# The one row per deployment, user, hour, method, tool and key of the hourly usage.
HOURS_UNIQUE = "uq_service_usage_hours_calls"
# ``tool`` of a price that covers every call of its service (NULL would not be unique).
ALL_TOOLS = ""


class ServicePrice(Base):
    """A service's price (or one tool's) from ``effective_from`` until the next one."""

    __tablename__ = "service_prices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("mcp_services.id", ondelete="CASCADE"))
    tool: Mapped[str] = mapped_column(String(200), default=ALL_TOOLS)
    price_model: Mapped[str] = mapped_column(String(16))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(20, 10))
    # FREEMIUM: calls per user per calendar month (across the service's deployments) free.
    free_requests: Mapped[int] = mapped_column(BigInteger, default=0)
    effective_from: Mapped[datetime] = mapped_column(UtcDateTime)
    set_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    set_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("service_id", "tool", "effective_from"),
        CheckConstraint("price_model IN ('FREE', 'PAID', 'FREEMIUM')", name="price_model"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
        CheckConstraint("free_requests >= 0", name="free_requests"),
    )


class UsageHour(Base):
    """Billable calls of one user to one deployment in one UTC hour, per method and tool.

    The meter writes these beside ``service_usage`` (same batch, same transaction), so
    billing can price each call at its tool's price and at the price of its hour.
    """

    __tablename__ = "service_usage_hours"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("service_deployments.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    hour: Mapped[datetime] = mapped_column(UtcDateTime)
    method: Mapped[str] = mapped_column(String(64))
    # The tool of a tools/call; ALL_TOOLS for the other methods.
    tool: Mapped[str] = mapped_column(String(200), default=ALL_TOOLS)
    # The API key of the calls (``api_keys.id``, kept after the key is gone; 0: none).
    key_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    request_count: Mapped[int] = mapped_column(BigInteger, default=0)
    error_count: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        # Named here: the convention's name would pass PostgreSQL's 63 characters.
        UniqueConstraint(
            "deployment_id", "user_id", "hour", "method", "tool", "key_id", name=HOURS_UNIQUE
        ),
        Index("ix_service_usage_hours_user_hour", "user_id", "hour"),
        Index("ix_service_usage_hours_hour", "hour"),
    )


class Quota(Base):
    """A limit on billable calls: requests per day or month, spend per month, or calls
    per second per tool, of a user, a team, an API key or a deployment."""

    __tablename__ = "quotas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    # The user's, team's, key's or deployment's id (the row stays, unused, if it goes).
    subject_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(16))
    allowed: Mapped[Decimal] = mapped_column(Numeric(20, 10))
    # A rate limit's tool (ALL_TOOLS: each tool on its own); ALL_TOOLS for the others.
    tool: Mapped[str] = mapped_column(String(200), default=ALL_TOOLS)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("scope", "subject_id", "kind", "period", "tool"),
        CheckConstraint("scope IN ('user', 'team', 'key', 'deployment')", name="scope"),
        CheckConstraint("kind IN ('requests', 'spend', 'rate')", name="kind"),
        CheckConstraint("period IN ('second', 'day', 'month')", name="period"),
        CheckConstraint("allowed > 0", name="allowed"),
    )
