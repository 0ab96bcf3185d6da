"""Teams and deployment shares in memory for FakeClient, refused where the backend refuses."""

from __future__ import annotations

from collections.abc import Callable

from mcp_console.schemas.deploy import (
    Access,
    DeploymentDetail,
    ShareCreate,
    ShareView,
    refusal,
)
from mcp_console.schemas.errors import Conflict, Forbidden, Invalid, NotFound, revalidated
from mcp_console.schemas.users import Principal, TeamCreate, TeamMember, TeamRole, TeamView
from tests.tui.sample import NOW

# Whether a user of that name exists (FakeUsers keeps them).
UserExists = Callable[[str], bool]


class FakeTeams:
    """Anyone creates a team and maintains it; its maintainers and admins change it."""

    def __init__(self, user_exists: UserExists) -> None:
        self._user_exists = user_exists
        self.items: dict[str, TeamView] = {}

    def create(self, actor: Principal, new: TeamCreate) -> TeamView:
        new = revalidated(new)
        if new.name in self.items:
            raise Conflict(f"a team named {new.name!r} already exists", field="name")
        team = TeamView(
            id=len(self.items) + 1,
            name=new.name,
            description=new.description,
            created_at=NOW,
            members=[TeamMember(user=actor.name, role=TeamRole.MAINTAINER)],
        )
        self.items[team.name] = team
        return team

    def listed(self, actor: Principal) -> list[TeamView]:
        return [
            team
            for name, team in sorted(self.items.items())
            if actor.is_admin or _member(team, actor.name) is not None
        ]

    def get(self, actor: Principal, name: str) -> TeamView:
        team = self.items.get(name)
        if team is None or not (actor.is_admin or _member(team, actor.name) is not None):
            raise NotFound(f"no team named {name!r}", field="team")
        return team

    def delete(self, actor: Principal, name: str) -> None:
        team = self.get(actor, name)
        _require_maintainer(actor, team)
        del self.items[name]

    def add_member(self, actor: Principal, name: str, user: str, role: TeamRole) -> TeamView:
        team = self.get(actor, name)
        _require_maintainer(actor, team)
        self._require_user(user)
        member = _member(team, user)
        if member is not None:
            _keep_a_maintainer(team, member, role)
        others = [m for m in team.members if m.user != user]
        return self._put(team, [*others, TeamMember(user=user, role=role)])

    def remove_member(self, actor: Principal, name: str, user: str) -> TeamView:
        team = self.get(actor, name)
        self._require_user(user)
        if user != actor.name:
            _require_maintainer(actor, team)
        member = _member(team, user)
        if member is None:
            raise NotFound(f"{user} is not in team {team.name}", field="user")
        _keep_a_maintainer(team, member, TeamRole.MEMBER)
        return self._put(team, [m for m in team.members if m.user != user])

    def ids_of(self, user: str) -> frozenset[int]:
        """The teams ``user`` is in, as a principal carries them."""
        return frozenset(t.id for t in self.items.values() if _member(t, user) is not None)

    def exists(self, name: str) -> bool:
        return name in self.items

    def _require_user(self, name: str) -> None:
        if not self._user_exists(name):
            raise NotFound(f"no user named {name!r}", field="user")

    def _put(self, team: TeamView, members: list[TeamMember]) -> TeamView:
        updated = team.model_copy(update={"members": sorted(members, key=lambda m: m.user)})
        self.items[team.name] = updated
        return updated


def _member(team: TeamView, user: str) -> TeamMember | None:
    return next((m for m in team.members if m.user == user), None)


def _require_maintainer(actor: Principal, team: TeamView) -> None:
    if actor.is_admin:
        return
    member = _member(team, actor.name)
    if member is None or member.role is not TeamRole.MAINTAINER:
        raise Forbidden(f"only the maintainers of team {team.name} and admins may change it")


def _keep_a_maintainer(team: TeamView, member: TeamMember, role: TeamRole) -> None:
    if member.role is not TeamRole.MAINTAINER or role is TeamRole.MAINTAINER:
        return
    if sum(m.role is TeamRole.MAINTAINER for m in team.members) <= 1:
        raise Conflict(
            f"team {team.name} needs a maintainer: make someone else one first, or delete it",
            field="user",
        )


class FakeShares:
    """Who a deployment is shared with, checked as the backend checks a share."""

    def __init__(self, user_exists: UserExists, teams: FakeTeams) -> None:
        self._user_exists = user_exists
        self._teams = teams

    def share(
        self, actor: Principal, detail: DeploymentDetail, share: ShareCreate
    ) -> DeploymentDetail:
        _require_owner(actor, detail, "change_shares")
        share = revalidated(share)
        kind, name = self._grantee(detail, share)
        others = [s for s in detail.shares if (s.kind, s.name) != (kind, name)]
        added = ShareView(kind=kind, name=name, role=share.role, created_at=NOW)
        return _with_shares(detail, [*others, added])

    def unshare(
        self, actor: Principal, detail: DeploymentDetail, user: str | None, team: str | None
    ) -> DeploymentDetail:
        _require_owner(actor, detail, "change_shares")
        kind, name = self._grantee(detail, ShareCreate(user=user, team=team))
        remaining = [s for s in detail.shares if (s.kind, s.name) != (kind, name)]
        if len(remaining) == len(detail.shares):
            raise NotFound(f"{detail.name} is not shared with {kind} {name}", field=kind)
        return _with_shares(detail, remaining)

    def _grantee(self, detail: DeploymentDetail, share: ShareCreate) -> tuple[str, str]:
        if (share.user is None) == (share.team is None):
            raise Invalid("name exactly one of a user or a team to share with", field="user")
        if share.user is not None:
            if not self._user_exists(share.user):
                raise NotFound(f"no user named {share.user!r}", field="user")
            if share.user == detail.owner:
                raise Invalid(f"{share.user} owns {detail.name} already", field="user")
            return "user", share.user
        assert share.team is not None
        if not self._teams.exists(share.team):
            raise NotFound(f"no team named {share.team!r}", field="team")
        return "team", share.team


def _require_owner(actor: Principal, detail: DeploymentDetail, verb: str) -> None:
    if not (actor.is_admin or actor.name == detail.owner):
        # The fake does not model who reaches what: anyone else counts as a caller.
        raise Forbidden(refusal(f"{detail.owner}/{detail.name}", Access.CALLER, verb))


def _with_shares(detail: DeploymentDetail, shares: list[ShareView]) -> DeploymentDetail:
    # The backend's order: users first, then teams, each by name.
    ordered = sorted(shares, key=lambda s: (s.kind != "user", s.name))
    return detail.model_copy(update={"shares": ordered})
