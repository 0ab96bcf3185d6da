"""The tables of tool-definition drift: approved definitions per version, and findings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mcp_console.backend.db.base import Base, JsonType, UtcDateTime, utcnow


class DefinitionBaseline(Base):
    """The tools, prompts and resource templates a deployment's version listed when it
    first served healthy, as approved since (each with its canonical-JSON SHA-256)."""

    __tablename__ = "definition_baselines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("service_deployments.id", ondelete="CASCADE")
    )
    version_id: Mapped[int] = mapped_column(ForeignKey("service_versions.id", ondelete="CASCADE"))
    # [{"kind", "name", "digest", "definition"}, ...]: one row, so an empty listing is a
    # baseline too (a server that later adds its first tool has drifted).
    definitions: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The last comparison with what the server lists.
    checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (UniqueConstraint("deployment_id", "version_id"),)


class DefinitionFinding(Base):
    """A definition that differs from the baseline: one open finding per definition until
    an operator approves it (the latest listing wins while it waits), kept after that."""

    __tablename__ = "definition_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("service_deployments.id", ondelete="CASCADE")
    )
    version_id: Mapped[int] = mapped_column(ForeignKey("service_versions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(500))
    change: Mapped[str] = mapped_column(String(16))
    old_definition: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)
    new_definition: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)
    new_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    diff: Mapped[str] = mapped_column(Text, default="")
    detected_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (Index("ix_definition_findings_open", "deployment_id", "approved_at"),)
