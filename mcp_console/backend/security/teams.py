"""TeamService: teams of users, so a deployment can be shared with many at once."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.models import Team, TeamMember, User
from mcp_console.backend.events import EventBus, acted_by
from mcp_console.schemas.errors import Conflict, Forbidden, NotFound
from mcp_console.schemas.users import Principal, TeamCreate, TeamRole, TeamView
from mcp_console.schemas.users import TeamMember as MemberView


class TeamService:
    """Anyone may create a team (and maintains it); maintainers and admins change it.

    Members see their teams; admins see all. Each change of membership is published
    (``team.changed`` with the users concerned), so the gateway re-reads their teams.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], events: EventBus) -> None:
        self._sessions = sessions
        self._events = events

    async def create(self, actor: Principal, new: TeamCreate) -> TeamView:
        """Create a team with the actor as its maintainer.

        Raises:
            Conflict: the name is taken.
        """
        try:
            async with self._sessions.begin() as session:
                team = Team(name=new.name, description=new.description)
                session.add(team)
                await session.flush()
                session.add(
                    TeamMember(
                        team_id=team.id, user_id=actor.user_id, role=TeamRole.MAINTAINER.value
                    )
                )
                await session.flush()
                view = await _view(session, team)
        except IntegrityError:
            raise Conflict(f"a team named {new.name!r} already exists", field="name") from None
        self._changed(actor, new.name, "created", [actor.user_id])
        return view

    async def list_teams(self, actor: Principal) -> list[TeamView]:
        """The actor's teams (an admin sees all), by name."""
        query = select(Team).order_by(Team.name)
        if not actor.is_admin:
            mine = select(TeamMember.team_id).where(TeamMember.user_id == actor.user_id)
            query = query.where(Team.id.in_(mine))
        async with self._sessions() as session:
            return [await _view(session, team) for team in await session.scalars(query)]

    async def get(self, actor: Principal, name: str) -> TeamView:
        """One team with its members.

        Raises:
            NotFound: no such team among those the actor may see.
        """
        async with self._sessions() as session:
            team = await _visible(session, actor, name)
            return await _view(session, team)

    async def delete(self, actor: Principal, name: str) -> None:
        """Delete a team; what was shared with it is no longer.

        Raises:
            NotFound: no such team among the actor's.
            Forbidden: the actor maintains neither it nor the console.
        """
        async with self._sessions.begin() as session:
            team = await _visible(session, actor, name)
            await _require_maintainer(session, actor, team)
            members = list(
                await session.scalars(
                    select(TeamMember.user_id).where(TeamMember.team_id == team.id)
                )
            )
            await session.delete(team)
        self._changed(actor, team.name, "deleted", members)

    async def add_member(
        self, actor: Principal, name: str, user: str, role: TeamRole = TeamRole.MEMBER
    ) -> TeamView:
        """Add a user to a team, or change their role in it.

        Raises:
            NotFound: no such team or user.
            Forbidden: the actor maintains neither the team nor the console.
        """
        async with self._sessions.begin() as session:
            team = await _visible(session, actor, name)
            await _require_maintainer(session, actor, team)
            user_id = await _user_id(session, user)
            member = await session.get(TeamMember, (team.id, user_id))
            if member is None:
                session.add(TeamMember(team_id=team.id, user_id=user_id, role=role.value))
            else:
                await _keep_a_maintainer(session, team, member, role)
                member.role = role.value
            await session.flush()
            view = await _view(session, team)
        self._changed(actor, team.name, "member-set", [user_id], user=user, role=role.value)
        return view

    async def remove_member(self, actor: Principal, name: str, user: str) -> TeamView:
        """Take a user out of a team (anyone may leave a team themselves).

        Raises:
            NotFound: no such team, user or membership.
            Forbidden: the actor maintains neither the team nor the console.
            Conflict: it is the team's last maintainer.
        """
        async with self._sessions.begin() as session:
            team = await _visible(session, actor, name)
            user_id = await _user_id(session, user)
            if user_id != actor.user_id:
                await _require_maintainer(session, actor, team)
            member = await session.get(TeamMember, (team.id, user_id))
            if member is None:
                raise NotFound(f"{user} is not in team {team.name}", field="user")
            await _keep_a_maintainer(session, team, member, TeamRole.MEMBER)
            await session.execute(
                delete(TeamMember).where(
                    TeamMember.team_id == team.id, TeamMember.user_id == user_id
                )
            )
            view = await _view(session, team)
        self._changed(actor, team.name, "member-removed", [user_id], user=user)
        return view

    def _changed(
        self, actor: Principal, team: str, change: str, user_ids: list[int], **fields: str
    ) -> None:
        self._events.publish(
            {
                "type": "team.changed",
                "user_ids": sorted(user_ids),
                "team": team,
                "change": change,
                **fields,
                **acted_by(actor),
            }
        )


async def _visible(session: AsyncSession, actor: Principal, name: str) -> Team:
    team = await session.scalar(select(Team).where(Team.name == name))
    if team is not None and not actor.is_admin:
        member = await session.get(TeamMember, (team.id, actor.user_id))
        if member is None:
            team = None
    if team is None:
        raise NotFound(f"no team named {name!r}", field="team")
    return team


async def _require_maintainer(session: AsyncSession, actor: Principal, team: Team) -> None:
    if actor.is_admin:
        return
    member = await session.get(TeamMember, (team.id, actor.user_id))
    if member is None or member.role != TeamRole.MAINTAINER:
        raise Forbidden(f"only the maintainers of team {team.name} and admins may change it")


async def _keep_a_maintainer(
    session: AsyncSession, team: Team, member: TeamMember, role: TeamRole
) -> None:
    if member.role != TeamRole.MAINTAINER or role == TeamRole.MAINTAINER:
        return
    maintainers = await session.scalar(
        select(func.count()).where(
            TeamMember.team_id == team.id, TeamMember.role == TeamRole.MAINTAINER.value
        )
    )
    if (maintainers or 0) <= 1:
        raise Conflict(
            f"team {team.name} needs a maintainer: make someone else one first, or delete it",
            field="user",
        )


async def _user_id(session: AsyncSession, name: str) -> int:
    user_id = await session.scalar(select(User.id).where(User.name == name))
    if user_id is None:
        raise NotFound(f"no user named {name!r}", field="user")
    return user_id


async def _view(session: AsyncSession, team: Team) -> TeamView:
    members = await session.execute(
        select(User.name, TeamMember.role)
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.team_id == team.id)
        .order_by(User.name)
    )
    return TeamView(
        id=team.id,
        name=team.name,
        description=team.description,
        created_at=team.created_at,
        members=[MemberView(user=user, role=TeamRole(role)) for user, role in members],
    )
