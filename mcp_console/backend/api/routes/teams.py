"""Team routes: create, list, show and delete teams; add, change and remove members."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status
from pydantic import BaseModel

from mcp_console.backend.api.deps import Actor, RuntimeDep
from mcp_console.schemas.users import TeamCreate, TeamRole, TeamView

router = APIRouter(tags=["teams"])

TeamName = Annotated[str, Path(description="The team's name.")]
UserName = Annotated[str, Path(description="The member's user name.")]


class MemberBody(BaseModel):
    """A member's role in a team: maintainers add and remove members."""

    role: TeamRole = TeamRole.MEMBER


@router.get("/teams")
async def list_teams(rt: RuntimeDep, actor: Actor) -> list[TeamView]:
    """The caller's teams (an admin sees all), by name, with their members."""
    return await rt.teams.list_teams(actor)


@router.post("/teams", status_code=status.HTTP_201_CREATED)
async def create_team(rt: RuntimeDep, actor: Actor, new: TeamCreate) -> TeamView:
    """Create a team; the caller becomes its first maintainer."""
    return await rt.teams.create(actor, new)


@router.get("/teams/{name}")
async def get_team(rt: RuntimeDep, actor: Actor, name: TeamName) -> TeamView:
    """One team with its members (for its members and admins)."""
    return await rt.teams.get(actor, name)


@router.delete("/teams/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_team(rt: RuntimeDep, actor: Actor, name: TeamName) -> None:
    """Delete a team; what was shared with it is no longer (maintainers and admins)."""
    await rt.teams.delete(actor, name)


@router.put("/teams/{name}/members/{user}")
async def put_member(
    rt: RuntimeDep, actor: Actor, name: TeamName, user: UserName, body: MemberBody
) -> TeamView:
    """Add a user to a team, or change their role in it (maintainers and admins)."""
    return await rt.teams.add_member(actor, name, user, body.role)


@router.delete("/teams/{name}/members/{user}")
async def remove_member(rt: RuntimeDep, actor: Actor, name: TeamName, user: UserName) -> TeamView:
    """Take a user out of a team (maintainers and admins; anyone may leave)."""
    return await rt.teams.remove_member(actor, name, user)
