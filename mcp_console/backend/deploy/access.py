"""Who may do what with a deployment: its owner, the admins, and those it is shared with."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mcp_console.backend.db.models import DeploymentShare
from mcp_console.backend.deploy.deployment_record import DeploymentState
from mcp_console.schemas.deploy import Access, ShareRole, allowed, refusal
from mcp_console.schemas.errors import Forbidden
from mcp_console.schemas.users import Principal


def shares_reaching(actor: Principal) -> ColumnElement[bool]:
    """The shares that reach the actor: to the user, or to one of the user's teams."""
    reach = DeploymentShare.user_id == actor.user_id
    if actor.team_ids:
        reach = or_(reach, DeploymentShare.team_id.in_(actor.team_ids))
    return reach


def access_from(actor: Principal, state: DeploymentState, roles: Sequence[str]) -> Access | None:
    """The actor's access given the roles of the shares that reach them (``None``: none).

    A key scoped to other deployments reaches nothing here, whoever holds it.
    """
    if not actor.in_scope(state.id):
        return None
    if actor.is_admin:
        return Access.ADMIN
    if state.deployment.user_id == actor.user_id:
        return Access.OWNER
    if ShareRole.OPERATOR in roles:
        return Access.OPERATOR
    if ShareRole.CALLER in roles:
        return Access.CALLER
    return None


async def grant_access(
    session: AsyncSession, actor: Principal, states: Sequence[DeploymentState]
) -> list[DeploymentState]:
    """Set each state's ``access`` for the actor (one query for all); returns those the
    actor may see at all."""
    roles: dict[int, list[str]] = {}
    others = [s.id for s in states if s.deployment.user_id != actor.user_id]
    if others and not actor.is_admin:
        rows = await session.execute(
            select(DeploymentShare.deployment_id, DeploymentShare.role).where(
                DeploymentShare.deployment_id.in_(others), shares_reaching(actor)
            )
        )
        for deployment_id, role in rows:
            roles.setdefault(deployment_id, []).append(role)
    seen = []
    for state in states:
        state.access = access_from(actor, state, roles.get(state.id, []))
        if state.access is not None:
            seen.append(state)
    return seen


def require(state: DeploymentState, verb: str) -> None:
    """Raise ``Forbidden`` unless the access set on ``state`` is enough for ``verb``."""
    if not allowed(state.access, verb):
        raise Forbidden(refusal(f"{state.owner}/{state.name}", state.access, verb))
