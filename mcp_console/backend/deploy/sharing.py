"""Sharing a deployment with users and teams, and reading who it is shared with."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from mcp_console.backend.db.models import DeploymentShare, Team, User
from mcp_console.backend.deploy.deployment_record import DeploymentState
from mcp_console.schemas.deploy import ShareCreate, ShareRole, ShareView
from mcp_console.schemas.errors import Invalid, NotFound


@dataclass(frozen=True, slots=True)
class Grantee:
    """A user or a team a deployment is (to be) shared with."""

    kind: str
    name: str
    user_id: int | None = None
    team_id: int | None = None

    @property
    def label(self) -> str:
        """How history and messages name it: ``user alice`` or ``team ops``."""
        return f"{self.kind} {self.name}"

    def matches(self) -> ColumnElement[bool]:
        """The condition selecting this grantee's share row."""
        if self.user_id is not None:
            return DeploymentShare.user_id == self.user_id
        return DeploymentShare.team_id == self.team_id


async def shares_of(session: AsyncSession, deployment_id: int) -> list[ShareView]:
    """Who a deployment is shared with: users first, then teams, each by name."""
    users = await session.execute(
        select(User.name, DeploymentShare.role, DeploymentShare.created_at)
        .join(User, User.id == DeploymentShare.user_id)
        .where(DeploymentShare.deployment_id == deployment_id)
        .order_by(User.name)
    )
    teams = await session.execute(
        select(Team.name, DeploymentShare.role, DeploymentShare.created_at)
        .join(Team, Team.id == DeploymentShare.team_id)
        .where(DeploymentShare.deployment_id == deployment_id)
        .order_by(Team.name)
    )
    return [
        ShareView(kind=kind, name=name, role=ShareRole(role), created_at=at)
        for kind, rows in (("user", users), ("team", teams))
        for name, role, at in rows
    ]


async def grantee(session: AsyncSession, state: DeploymentState, share: ShareCreate) -> Grantee:
    """The user or team a share names, checked.

    Raises:
        Invalid: neither or both are named, or the user is the deployment's owner.
        NotFound: no such user or team.
    """
    if (share.user is None) == (share.team is None):
        raise Invalid("name exactly one of a user or a team to share with", field="user")
    if share.user is not None:
        user_id = await session.scalar(select(User.id).where(User.name == share.user))
        if user_id is None:
            raise NotFound(f"no user named {share.user!r}", field="user")
        if user_id == state.deployment.user_id:
            raise Invalid(f"{share.user} owns {state.name} already", field="user")
        return Grantee("user", share.user, user_id=user_id)
    team_id = await session.scalar(select(Team.id).where(Team.name == share.team))
    if team_id is None:
        raise NotFound(f"no team named {share.team!r}", field="team")
    assert share.team is not None
    return Grantee("team", share.team, team_id=team_id)


async def put_share(
    session: AsyncSession, state: DeploymentState, who: Grantee, role: ShareRole
) -> str | None:
    """Share the deployment with ``who`` as ``role``; returns the role it had before."""
    existing = await session.scalar(
        select(DeploymentShare).where(DeploymentShare.deployment_id == state.id, who.matches())
    )
    if existing is not None:
        before = existing.role
        existing.role = role.value
        return before
    session.add(
        DeploymentShare(
            deployment_id=state.id, user_id=who.user_id, team_id=who.team_id, role=role.value
        )
    )
    return None


async def drop_share(session: AsyncSession, state: DeploymentState, who: Grantee) -> str | None:
    """Stop sharing with ``who``; returns the role they had (``None``: it was not shared)."""
    existing = await session.scalar(
        select(DeploymentShare).where(DeploymentShare.deployment_id == state.id, who.matches())
    )
    if existing is None:
        return None
    await session.delete(existing)
    return existing.role
