"""Turning a user row and the key presented into the principal the services check."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mcp_console.backend.db.models import ApiKey, ApiKeyDeployment, TeamMember, User
from mcp_console.schemas.errors import Forbidden
from mcp_console.schemas.users import Principal, Role


async def principal_for(session: AsyncSession, user: User, key: ApiKey | None = None) -> Principal:
    """The principal of ``user``, with their teams and, when a key was presented, its id,
    expiry and scope."""
    teams = frozenset(
        await session.scalars(select(TeamMember.team_id).where(TeamMember.user_id == user.id))
    )
    scope = None
    if key is not None and key.scoped:
        scope = frozenset(
            await session.scalars(
                select(ApiKeyDeployment.deployment_id).where(ApiKeyDeployment.key_id == key.id)
            )
        )
    return Principal(
        user_id=user.id,
        name=user.name,
        role=Role(user.role),
        key_id=key.id if key is not None else None,
        key_expires_at=key.expires_at if key is not None else None,
        scope=scope,
        team_ids=teams,
    )


def require_unscoped(actor: Principal) -> None:
    """Refuse a key limited to some deployments where it does not belong: such a key is for
    an agent using those deployments, never for managing users, keys, teams, shares or the
    catalog.

    Raises:
        Forbidden: the actor's key is scoped.
    """
    if actor.scope is not None:
        raise Forbidden(
            "this API key is limited to some deployments: it may use and run only those, "
            "read the catalog and /me; use a key without a scope for this"
        )
