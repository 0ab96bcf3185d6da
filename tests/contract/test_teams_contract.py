"""Teams behave the same through every client: who creates, joins, changes and sees them."""

from __future__ import annotations

import pytest

from mcp_console.schemas.errors import Conflict, Forbidden, Invalid, NotFound
from mcp_console.schemas.users import Role, TeamCreate, TeamRole, TeamView
from tests.contract.conftest import Clients


def _members(team: TeamView) -> list[tuple[str, str]]:
    return [(m.user, m.role.value) for m in team.members]


async def test_a_team_is_made_joined_left_and_deleted(clients: Clients) -> None:
    alice = await clients.user("alice", Role.USER)
    bob = await clients.user("bob", Role.USER)
    created = await alice.create_team(TeamCreate(name="ops", description="on call"))
    assert (created.name, created.description) == ("ops", "on call")
    assert _members(created) == [("alice", "maintainer")]

    joined = await alice.add_team_member("ops", "bob")
    assert _members(joined) == [("alice", "maintainer"), ("bob", "member")]
    assert [t.name for t in await bob.list_teams()] == ["ops"]
    assert _members(await bob.get_team("ops")) == _members(joined)
    promoted = await alice.add_team_member("ops", "bob", TeamRole.MAINTAINER)
    assert _members(promoted) == [("alice", "maintainer"), ("bob", "maintainer")]

    left = await bob.remove_team_member("ops", "bob")  # anyone may leave
    assert _members(left) == [("alice", "maintainer")]
    assert await bob.list_teams() == []
    await alice.delete_team("ops")
    assert await alice.list_teams() == []
    with pytest.raises(NotFound):
        await alice.get_team("ops")


async def test_only_maintainers_change_a_team_and_it_keeps_one(clients: Clients) -> None:
    alice = await clients.user("alice", Role.USER)
    bob = await clients.user("bob", Role.USER)
    carol = await clients.user("carol", Role.USER)
    admin = await clients.admin()
    await alice.create_team(TeamCreate(name="ops"))
    await alice.add_team_member("ops", "bob")

    with pytest.raises(Forbidden, match="maintainers of team ops"):
        await bob.add_team_member("ops", "carol")
    with pytest.raises(Forbidden):
        await bob.delete_team("ops")
    with pytest.raises(NotFound) as hidden:
        await carol.get_team("ops")
    assert hidden.value.field == "team"
    assert await carol.list_teams() == []
    with pytest.raises(Conflict, match="needs a maintainer"):
        await alice.remove_team_member("ops", "alice")
    with pytest.raises(Conflict, match="needs a maintainer"):
        await alice.add_team_member("ops", "alice", TeamRole.MEMBER)
    assert _members(await alice.get_team("ops")) == [("alice", "maintainer"), ("bob", "member")]

    assert [t.name for t in await admin.list_teams()] == ["ops"]
    changed = await admin.add_team_member("ops", "carol")
    assert "carol" in [m.user for m in changed.members]


async def test_team_refusals_name_what_is_wrong(clients: Clients) -> None:
    alice = await clients.user("alice", Role.USER)
    await alice.create_team(TeamCreate(name="ops"))
    with pytest.raises(Conflict) as taken:
        await alice.create_team(TeamCreate(name="ops"))
    assert taken.value.field == "name"
    with pytest.raises(Invalid) as bad:
        await alice.create_team(TeamCreate.model_construct(name="two words", description=""))
    assert bad.value.field == "name"
    with pytest.raises(NotFound) as nobody:
        await alice.add_team_member("ops", "nobody")
    assert (nobody.value.field, nobody.value.message) == ("user", "no user named 'nobody'")
    with pytest.raises(NotFound) as outsider:
        await alice.remove_team_member("ops", "alice-not")
    assert outsider.value.field == "user"
    with pytest.raises(NotFound) as no_team:
        await alice.add_team_member("devs", "alice")
    assert no_team.value.field == "team"
    assert [t.name for t in await alice.list_teams()] == ["ops"]
