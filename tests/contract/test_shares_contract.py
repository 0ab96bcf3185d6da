"""Sharing a deployment behaves the same through every client: who is given what, and who
then reaches it as ``owner/name``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mcp_console.schemas.deploy import Access, DeploymentDetail, ShareCreate, ShareRole
from mcp_console.schemas.errors import Forbidden, Invalid, NotFound
from mcp_console.schemas.users import KeyCreate, Role, TeamCreate
from tests.contract.conftest import Clients
from tests.contract.sharing import create_deployment, published

SINGLE_WORLD = "FakeClient's deployments are one set, seen by whoever acts"


def _shares(detail: DeploymentDetail) -> list[tuple[str, str, str]]:
    return [(s.kind, s.name, s.role.value) for s in detail.shares]


async def test_an_owner_shares_with_users_and_teams_and_takes_it_back(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    await clients.user("bob", Role.USER)
    await published(alice)
    await alice.create_deployment(create_deployment("web"))
    await alice.create_team(TeamCreate(name="ops"))

    await alice.share_deployment("web", ShareCreate(team="ops", role=ShareRole.OPERATOR))
    shared = await alice.share_deployment("web", ShareCreate(user="bob"))
    assert _shares(shared) == [("user", "bob", "caller"), ("team", "ops", "operator")]
    changed = await alice.share_deployment("web", ShareCreate(user="bob", role="operator"))
    assert _shares(changed) == [("user", "bob", "operator"), ("team", "ops", "operator")]
    assert _shares(await alice.get_deployment("web")) == _shares(changed)

    remaining = await alice.unshare_deployment("web", team="ops")
    assert _shares(remaining) == [("user", "bob", "operator")]
    assert _shares(await alice.unshare_deployment("web", user="bob")) == []


async def test_a_share_names_exactly_one_existing_grantee(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    await clients.user("bob", Role.USER)
    await published(alice)
    await alice.create_deployment(create_deployment("web"))
    await alice.create_team(TeamCreate(name="ops"))

    refusals: list[tuple[ShareCreate, type[Exception], str, str]] = [
        (ShareCreate(), Invalid, "user", "exactly one"),
        (ShareCreate(user="bob", team="ops"), Invalid, "user", "exactly one"),
        (ShareCreate(user="nobody"), NotFound, "user", "no user named 'nobody'"),
        (ShareCreate(team="ghosts"), NotFound, "team", "no team named 'ghosts'"),
        (ShareCreate(user="alice"), Invalid, "user", "alice owns web already"),
    ]
    for share, error, field, says in refusals:
        with pytest.raises(error, match=says) as refused:
            await alice.share_deployment("web", share)
        assert getattr(refused.value, "field", None) == field
    with pytest.raises(NotFound, match="web is not shared with user bob") as unshared:
        await alice.unshare_deployment("web", user="bob")
    assert unshared.value.field == "user"
    with pytest.raises(Invalid, match="exactly one"):
        await alice.unshare_deployment("web")
    with pytest.raises(NotFound):
        await alice.share_deployment("nothing", ShareCreate(user="bob"))
    assert (await alice.get_deployment("web")).shares == []


@pytest.mark.not_modelled_by_fake(SINGLE_WORLD)
async def test_a_shared_deployment_is_reached_as_owner_slash_name(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    bob = await clients.user("bob", Role.USER)
    await published(alice)
    await alice.create_deployment(create_deployment("web"))
    with pytest.raises(NotFound):
        await bob.get_deployment("alice/web")
    assert await bob.list_deployments() == []

    await alice.share_deployment("web", ShareCreate(user="bob"))
    [seen] = await bob.list_deployments()
    assert (seen.address, seen.access, seen.owner) == ("alice/web", Access.CALLER, "alice")
    assert (await bob.get_deployment("alice/web")).name == "web"
    with pytest.raises(Forbidden, match="only its operators, its owner and admins may scale it"):
        await bob.scale_deployment("alice/web", 2)
    with pytest.raises(Forbidden):
        await bob.share_deployment("alice/web", ShareCreate(team="anyone"))

    await alice.share_deployment("web", ShareCreate(user="bob", role=ShareRole.OPERATOR))
    scaled = await bob.scale_deployment("alice/web", 2)
    assert (scaled.replicas, scaled.access) == (2, Access.OPERATOR)
    with pytest.raises(Forbidden, match="only its owner and admins may delete it"):
        await bob.delete_deployment("alice/web")
    with pytest.raises(Forbidden):
        await bob.unshare_deployment("alice/web", user="bob")

    await alice.unshare_deployment("web", user="bob")
    with pytest.raises(NotFound):
        await bob.get_deployment("alice/web")


@pytest.mark.not_modelled_by_fake(SINGLE_WORLD)
async def test_a_team_share_reaches_the_team_s_members(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    carol_key = await clients.new_user("carol", Role.USER)
    dave = await clients.user("dave", Role.USER)
    await published(alice)
    await alice.create_deployment(create_deployment("web"))
    await alice.create_team(TeamCreate(name="ops"))
    await alice.add_team_member("ops", "carol")
    await alice.share_deployment("web", ShareCreate(team="ops"))

    carol = await clients.connect(carol_key)
    assert [d.address for d in await carol.list_deployments()] == ["alice/web"]
    assert await dave.list_deployments() == []
    await alice.remove_team_member("ops", "carol")
    carol = await clients.connect(carol_key)
    with pytest.raises(NotFound):
        await carol.get_deployment("alice/web")


@pytest.mark.not_modelled_by_fake(SINGLE_WORLD)
async def test_admins_see_and_run_everyone_s_deployments(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    admin = await clients.admin()
    await published(alice)
    await alice.create_deployment(create_deployment("web"))
    [seen] = await admin.list_deployments()
    assert (seen.address, seen.access) == ("alice/web", Access.ADMIN)
    shared = await admin.share_deployment("alice/web", ShareCreate(user="admin"))
    assert _shares(shared) == [("user", "admin", "caller")]


@pytest.mark.not_modelled_by_fake(SINGLE_WORLD)
async def test_a_scoped_key_reaches_only_its_deployments(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    await published(alice)
    await alice.create_deployment(create_deployment("web"))
    await alice.create_deployment(create_deployment("api"))
    agent = await clients.connect(
        (await alice.create_key(KeyCreate(name="agent", deployments=["web"]))).api_key
    )
    assert [d.name for d in await agent.list_deployments()] == ["web"]
    assert (await agent.scale_deployment("web", 0)).replicas == 0
    with pytest.raises(NotFound):
        await agent.get_deployment("api")
    assert (await alice.get_deployment("api")).replicas == 1


@pytest.mark.not_modelled_by_fake(SINGLE_WORLD)
async def test_an_event_stream_names_only_what_its_user_may_see(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    bob = await clients.user("bob", Role.USER)
    await published(alice)
    async with bob.events() as stream:
        # Alice's own: bob's stream must not even name it.
        await alice.create_deployment(create_deployment("private"))
        await alice.scale_deployment("private", 0)
        await alice.create_deployment(create_deployment("web"))
        await alice.share_deployment("web", ShareCreate(user="bob"))
        await alice.scale_deployment("web", 0)
        seen: list[dict[str, Any]] = []
        while not seen or seen[-1].get("type") != "deployment.scaled":
            seen.append(await asyncio.wait_for(anext(stream), 10))
    assert {event.get("deployment") for event in seen} == {"web"}
    assert [e["type"] for e in seen if e["type"].startswith("deployment.")][-2:] == [
        "deployment.shared",
        "deployment.scaled",
    ]
