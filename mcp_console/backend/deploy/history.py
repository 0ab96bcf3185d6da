"""The deployment history: who changed what, when and why, automatic decisions included."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mcp_console.backend.db.models import DeploymentHistory, ServiceDeployment
from mcp_console.schemas.deploy import HistoryEntry
from mcp_console.schemas.users import Principal

CONTROLLER = "controller"
AUTOSCALER = "autoscaler"


def record(
    session: AsyncSession,
    deployment: ServiceDeployment,
    action: str,
    *,
    actor: Principal | None = None,
    system: str = CONTROLLER,
    changes: dict[str, Any] | None = None,
    reason: str = "",
) -> DeploymentHistory:
    """Add one history entry in ``session``; without an actor the system decided it.

    ``changes`` must never hold a secret value: callers list secret names only.
    """
    row = DeploymentHistory(
        deployment_id=deployment.id,
        deployment_name=deployment.deployment_name,
        user_id=actor.user_id if actor else None,
        actor=actor.name if actor else system,
        action=action,
        changes=changes or {},
        reason=reason,
        automatic=actor is None,
    )
    session.add(row)
    return row


def history_entry(row: DeploymentHistory) -> HistoryEntry:
    """The DTO of a history row."""
    return HistoryEntry(
        id=row.id,
        deployment=row.deployment_name,
        at=row.at,
        actor=row.actor,
        action=row.action,
        changes=dict(row.changes),
        reason=row.reason,
        automatic=row.automatic,
    )


def change(before: Any, after: Any) -> list[Any]:
    """A ``[before, after]`` pair for ``changes``."""
    return [before, after]
