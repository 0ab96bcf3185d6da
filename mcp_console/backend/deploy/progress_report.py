"""A deployment's progress, told twice: an event for whoever watches, and its status reason."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.models import ServiceDeployment
from mcp_console.backend.deploy.deployment_record import DeploymentState
from mcp_console.backend.events import EventBus


async def report_progress(
    sessions: async_sessionmaker[AsyncSession],
    events: EventBus,
    state: DeploymentState,
    event: dict[str, Any],
) -> None:
    """Publish ``event`` and keep its ``reason`` (the line a user reads) as the deployment's
    status reason, in the database and on ``state``."""
    reason = event["reason"]
    events.publish(event)
    async with sessions.begin() as session:
        await session.execute(
            update(ServiceDeployment)
            .where(ServiceDeployment.id == state.id)
            .values(status_reason=reason)
        )
    state.deployment.status_reason = reason
