"""Which tools the gateway holds back from clients: the one rule, for the feed and the report."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mcp_console.backend.db.models import ServiceDeployment
from mcp_console.backend.db.models_drift import DefinitionFinding

# Findings that keep a tool from clients in block mode: new or changed tools, unapproved.
HELD_CHANGES = ("added", "changed")


async def blocked_tools(
    session: AsyncSession, deployment_ids: Collection[int]
) -> dict[int, frozenset[str]]:
    """The tools the gateway hides and refuses, per deployment (only those with any): in
    block mode, the added and changed tools of the version it runs that no operator
    approved yet. One statement."""
    if not deployment_ids:
        return {}
    f = DefinitionFinding
    rows = await session.execute(
        select(f.deployment_id, f.name)
        .join(
            ServiceDeployment,
            (ServiceDeployment.id == f.deployment_id)
            & (ServiceDeployment.version_id == f.version_id),
        )
        .where(
            f.deployment_id.in_(list(deployment_ids)),
            f.approved_at.is_(None),
            f.kind == "tool",
            f.change.in_(HELD_CHANGES),
            ServiceDeployment.drift == "block",
        )
    )
    found: dict[int, set[str]] = {}
    for deployment_id, name in rows:
        found.setdefault(deployment_id, set()).add(name)
    return {k: frozenset(v) for k, v in found.items()}
