"""Teams, deployment shares and API keys on both databases: who may do what, and nothing
changes when refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from mcp_console.backend.db.base import utcnow
from mcp_console.backend.db.models import ApiKey, DeploymentHistory
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.deploy import Access, DeploymentCreate, RuntimeChoice, ShareCreate
from mcp_console.schemas.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from mcp_console.schemas.users import KeyCreate, KeyState, Principal, Role, TeamCreate, TeamRole
from tests.backend.factories import make_user
from tests.deploy.catalogs import process_version, publish


@pytest.fixture
async def people(runtime: Runtime) -> dict[str, Principal]:
    """An owner with one deployment, and everyone who might want to reach it."""
    await publish(runtime, "calc", process_version("1.0.0"))
    names = {"owner": Role.USER, "friend": Role.USER, "mate": Role.USER, "stranger": Role.USER}
    people = {name: await make_user(runtime, name, role) for name, role in names.items()}
    admin = runtime.local_admin
    assert admin is not None
    people["admin"] = admin
    await runtime.deployments.create(
        people["owner"],
        DeploymentCreate(service="calc", name="calc", runtime=RuntimeChoice.PROCESS),
    )
    return people


async def again(runtime: Runtime, who: Principal) -> Principal:
    """The principal as a fresh authentication would see it (teams re-read)."""
    return await runtime.users.get_principal(who.name)


async def history_count(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(DeploymentHistory)) or 0)


async def test_a_caller_sees_and_an_operator_runs_a_shared_deployment(
    runtime: Runtime, people: dict[str, Principal]
) -> None:
    deployments = runtime.deployments
    owner, friend = people["owner"], people["friend"]
    with pytest.raises(NotFound):
        await deployments.get(friend, "owner/calc")

    shared = await deployments.share(owner, "calc", ShareCreate(user="friend"))
    assert [(s.kind, s.name, s.role.value) for s in shared.shares] == [("user", "friend", "caller")]
    [seen] = await deployments.list_deployments(friend)
    assert (seen.address, seen.access) == ("owner/calc", Access.CALLER)
    before = await history_count(runtime)
    with pytest.raises(Forbidden, match="only its operators, its owner and admins may scale it"):
        await deployments.scale(friend, "owner/calc", 3)
    assert (await deployments.get(owner, "calc")).replicas == 1
    assert await history_count(runtime) == before

    await deployments.share(owner, "calc", ShareCreate(user="friend", role="operator"))
    scaled = await deployments.scale(friend, "owner/calc", 2)
    assert (scaled.replicas, scaled.access, scaled.address) == (2, Access.OPERATOR, "owner/calc")
    with pytest.raises(Forbidden, match="only its owner and admins may delete it"):
        await deployments.delete(friend, "owner/calc")
    with pytest.raises(Forbidden):
        await deployments.share(friend, "owner/calc", ShareCreate(user="stranger"))

    await deployments.unshare(owner, "calc", user="friend")
    assert await deployments.list_deployments(friend) == []
    with pytest.raises(NotFound):
        await deployments.get(friend, "owner/calc")


async def test_a_team_share_reaches_its_members_only(
    runtime: Runtime, people: dict[str, Principal]
) -> None:
    owner, mate, stranger = people["owner"], people["mate"], people["stranger"]
    await runtime.teams.create(owner, TeamCreate(name="ops"))
    await runtime.teams.add_member(owner, "ops", "mate")
    await runtime.deployments.share(owner, "calc", ShareCreate(team="ops", role="operator"))

    mate = await again(runtime, mate)
    assert (await runtime.deployments.get(mate, "owner/calc")).access == Access.OPERATOR
    with pytest.raises(NotFound):
        await runtime.deployments.get(await again(runtime, stranger), "owner/calc")

    await runtime.teams.remove_member(owner, "ops", "mate")
    with pytest.raises(NotFound):
        await runtime.deployments.get(await again(runtime, mate), "owner/calc")


async def test_admins_see_and_run_everyone_s_deployments(
    runtime: Runtime, people: dict[str, Principal]
) -> None:
    admin = people["admin"]
    [seen] = await runtime.deployments.list_deployments(admin)
    assert (seen.address, seen.access) == ("owner/calc", Access.ADMIN)
    assert (await runtime.deployments.scale(admin, "owner/calc", 0)).replicas == 0


async def test_shares_name_exactly_one_existing_grantee(
    runtime: Runtime, people: dict[str, Principal]
) -> None:
    owner = people["owner"]
    before = await history_count(runtime)
    with pytest.raises(Invalid, match="exactly one"):
        await runtime.deployments.share(owner, "calc", ShareCreate())
    with pytest.raises(Invalid, match="exactly one"):
        await runtime.deployments.share(owner, "calc", ShareCreate(user="friend", team="ops"))
    with pytest.raises(NotFound, match="no user named 'nobody'"):
        await runtime.deployments.share(owner, "calc", ShareCreate(user="nobody"))
    with pytest.raises(NotFound, match="no team named 'ghosts'"):
        await runtime.deployments.share(owner, "calc", ShareCreate(team="ghosts"))
    with pytest.raises(Invalid, match="owns calc already"):
        await runtime.deployments.share(owner, "calc", ShareCreate(user="owner"))
    with pytest.raises(NotFound, match="not shared with user friend"):
        await runtime.deployments.unshare(owner, "calc", user="friend")
    assert await history_count(runtime) == before
    assert (await runtime.deployments.get(owner, "calc")).shares == []


async def test_teams_keep_a_maintainer_and_only_maintainers_change_them(
    runtime: Runtime, people: dict[str, Principal]
) -> None:
    teams = runtime.teams
    owner, mate, stranger = people["owner"], people["mate"], people["stranger"]
    created = await teams.create(owner, TeamCreate(name="ops", description="on call"))
    assert [(m.user, m.role) for m in created.members] == [("owner", TeamRole.MAINTAINER)]
    with pytest.raises(Conflict):
        await teams.create(mate, TeamCreate(name="ops"))
    await teams.add_member(owner, "ops", "mate")
    with pytest.raises(Forbidden):
        await teams.add_member(mate, "ops", "stranger")
    with pytest.raises(NotFound):
        await teams.get(stranger, "ops")
    with pytest.raises(Conflict, match="needs a maintainer"):
        await teams.remove_member(owner, "ops", "owner")
    assert [t.name for t in await teams.list_teams(mate)] == ["ops"]
    assert await teams.list_teams(stranger) == []
    assert [t.name for t in await teams.list_teams(people["admin"])] == ["ops"]
    left = await teams.remove_member(mate, "ops", "mate")  # anyone may leave
    assert [m.user for m in left.members] == ["owner"]
    await teams.delete(owner, "ops")
    assert await teams.list_teams(owner) == []


async def test_keys_expire_are_listed_without_secrets_and_revoke(
    runtime: Runtime, people: dict[str, Principal]
) -> None:
    owner = people["owner"]
    created = await runtime.keys.create(owner, KeyCreate(name="ci", expires_in="30d"))
    principal = await runtime.users.authenticate(created.api_key)
    assert principal.key_id == created.key.id
    assert created.key.state == KeyState.ACTIVE
    assert created.api_key.startswith(created.key.prefix)
    listed = await runtime.keys.list_keys(owner)
    assert created.api_key not in repr(listed)
    assert [k.name for k in listed] == ["ci", "initial"]

    async with runtime.sessions.begin() as session:
        await session.execute(
            update(ApiKey)
            .where(ApiKey.id == created.key.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    with pytest.raises(Unauthorized, match="expired"):
        await runtime.users.authenticate(created.api_key)
    assert (await runtime.keys.list_keys(owner))[0].state == KeyState.EXPIRED

    other = await runtime.keys.create(owner, KeyCreate(name="laptop"))
    revoked = await runtime.keys.revoke(owner, "laptop")
    assert revoked.state == KeyState.REVOKED
    with pytest.raises(Unauthorized):
        await runtime.users.authenticate(other.api_key)
    with pytest.raises(NotFound):
        await runtime.keys.revoke(people["friend"], str(other.key.id))
    with pytest.raises(Invalid, match="positive duration"):
        await runtime.keys.create(owner, KeyCreate(name="bad", expires_in="soon"))


async def test_a_scoped_key_reaches_only_its_deployments(
    runtime: Runtime, people: dict[str, Principal]
) -> None:
    owner = people["owner"]
    await runtime.deployments.create(
        owner, DeploymentCreate(service="calc", name="other", runtime=RuntimeChoice.PROCESS)
    )
    created = await runtime.keys.create(owner, KeyCreate(name="agent", deployments=["calc"]))
    assert created.key.deployments == ["calc"]
    agent = await runtime.users.authenticate(created.api_key)

    assert [d.name for d in await runtime.deployments.list_deployments(agent)] == ["calc"]
    assert (await runtime.deployments.get(agent, "calc")).name == "calc"
    with pytest.raises(NotFound):
        await runtime.deployments.get(agent, "other")
    with pytest.raises(NotFound):
        await runtime.keys.create(owner, KeyCreate(name="x", deployments=["friend/none"]))
