"""API keys behave the same through every client: minted once, listed by prefix, revoked."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from mcp_console.schemas.catalog import ServiceCreate
from mcp_console.schemas.deploy import ShareCreate
from mcp_console.schemas.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from mcp_console.schemas.users import KeyCreate, KeyState, Role, TeamCreate
from tests.contract.conftest import Clients
from tests.contract.sharing import SERVICE, create_deployment, published


async def test_a_key_is_shown_once_listed_by_prefix_and_refused_once_revoked(
    clients: Clients,
) -> None:
    alice = await clients.user("alice", Role.USER)
    created = await alice.create_key(KeyCreate(name="laptop", expires_in="30d"))
    key = created.key
    assert (key.name, key.state, key.deployments, key.revoked_at) == (
        "laptop",
        KeyState.ACTIVE,
        None,
        None,
    )
    assert created.api_key.startswith(key.prefix)
    assert len(key.prefix) < len(created.api_key)
    assert key.expires_at is not None
    lifetime = key.expires_at - key.created_at
    assert abs(lifetime - timedelta(days=30)) < timedelta(minutes=1)
    laptop = await clients.connect(created.api_key)
    assert (await laptop.whoami()).name == "alice"

    await alice.create_key(KeyCreate(name="ci"))
    listed = await alice.list_keys()
    assert [k.name for k in listed][:2] == ["ci", "laptop"]  # newest first
    assert created.api_key not in repr(listed)

    revoked = await alice.revoke_key("laptop")
    assert (revoked.id, revoked.state) == (key.id, KeyState.REVOKED)
    assert revoked.revoked_at is not None
    again = await alice.revoke_key(str(key.id))  # revoking twice is harmless
    assert again.revoked_at == revoked.revoked_at

    async def with_revoked_key() -> None:
        client = await clients.connect(created.api_key)
        await client.whoami()

    with pytest.raises(Unauthorized):
        await with_revoked_key()
    states = {k.name: k.state for k in await alice.list_keys()}
    assert (states["laptop"], states["ci"]) == (KeyState.REVOKED, KeyState.ACTIVE)


async def test_key_refusals_name_what_is_wrong(clients: Clients) -> None:
    alice = await clients.user("alice", Role.USER)
    before = [k.id for k in await alice.list_keys()]
    with pytest.raises(Invalid, match="positive duration") as soon:
        await alice.create_key(KeyCreate(name="x", expires_in="soon"))
    assert soon.value.field == "expires"
    with pytest.raises(NotFound) as unseen:
        await alice.create_key(KeyCreate(name="x", deployments=["nothing-here"]))
    assert unseen.value.field == "name"
    assert [k.id for k in await alice.list_keys()] == before

    with pytest.raises(NotFound) as unknown:
        await alice.revoke_key("no-such-key")
    assert unknown.value.field == "key"
    twin = await alice.create_key(KeyCreate(name="twin"))
    await alice.create_key(KeyCreate(name="twin"))
    with pytest.raises(Conflict, match="2 keys are called 'twin'") as twins:
        await alice.revoke_key("twin")
    assert twins.value.field == "key"
    assert (await alice.revoke_key(twin.key.prefix)).state == KeyState.REVOKED


async def test_only_an_admin_manages_another_user_s_keys(clients: Clients) -> None:
    alice = await clients.user("alice", Role.USER)
    bob = await clients.user("bob", Role.USER)
    admin = await clients.admin()
    made = await bob.create_key(KeyCreate(name="bobs"))
    with pytest.raises(Forbidden, match="only an admin"):
        await alice.list_keys("bob")
    with pytest.raises(Forbidden):
        await alice.revoke_key(str(made.key.id), "bob")
    with pytest.raises(NotFound):
        await alice.revoke_key(str(made.key.id))  # not one of alice's keys

    assert "bobs" in [k.name for k in await admin.list_keys("bob")]
    revoked = await admin.revoke_key("bobs", "bob")
    assert revoked.state == KeyState.REVOKED
    with pytest.raises(NotFound) as nobody:
        await admin.list_keys("nobody")
    assert nobody.value.field == "user"


async def test_a_key_limited_to_deployments_names_them(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    await published(alice)
    await alice.create_deployment(create_deployment("web"))
    await alice.create_deployment(create_deployment("api"))
    created = await alice.create_key(KeyCreate(name="agent", deployments=["web"]))
    assert created.key.deployments == ["web"]
    [listed] = [k for k in await alice.list_keys() if k.name == "agent"]
    assert listed.deployments == ["web"]


async def test_a_key_limited_to_deployments_manages_nothing(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    await published(alice)
    await alice.create_deployment(create_deployment("web"))
    agent = await clients.connect(
        (await alice.create_key(KeyCreate(name="agent", deployments=["web"]))).api_key
    )
    refused: list[Callable[[], Awaitable[object]]] = [
        lambda: agent.create_team(TeamCreate(name="agents")),
        agent.list_teams,
        lambda: agent.create_key(KeyCreate(name="wider")),
        agent.list_keys,
        lambda: agent.revoke_key("agent"),
        lambda: agent.share_deployment("web", ShareCreate(user="alice")),
        lambda: agent.create_deployment(create_deployment("more")),
        lambda: agent.register_service(ServiceCreate(name="sneaky", description="no")),
        lambda: agent.publish_service(SERVICE),
        agent.list_users,
    ]
    for attempt in refused:
        with pytest.raises(Forbidden, match="limited to some deployments"):
            await attempt()

    me = await agent.whoami()
    assert (me.name, me.scope is not None) == ("alice", True)
    assert (await agent.get_deployment("web")).shares == []
    assert [s.name for s in (await agent.search_services(SERVICE)).items] == [SERVICE]
    assert await alice.list_teams() == []
    assert [d.name for d in await alice.list_deployments()] == ["web"]
    assert {k.name: k.state for k in await alice.list_keys()}["agent"] == KeyState.ACTIVE
