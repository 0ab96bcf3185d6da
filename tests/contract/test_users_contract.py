"""Users and keys behave the same through the embedded backend and through the daemon's API."""

from __future__ import annotations

import pytest

from mcp_console.schemas.errors import Conflict, Forbidden, Invalid, Unauthorized
from mcp_console.schemas.users import Role, UserCreate
from tests.contract.conftest import Clients


async def test_an_admin_creates_a_user_whose_key_works(clients: Clients) -> None:
    admin = await clients.admin()
    created = await admin.create_user(UserCreate(name="dora", role=Role.AUTHOR))
    assert (created.user.name, created.user.role) == ("dora", Role.AUTHOR)
    assert created.api_key

    dora = await clients.connect(created.api_key)
    me = await dora.whoami()
    assert (me.name, me.role, me.user_id) == ("dora", Role.AUTHOR, created.user.id)
    assert "dora" in [u.name for u in await admin.list_users()]
    with pytest.raises(Conflict) as duplicate:
        await admin.create_user(UserCreate(name="dora"))
    assert duplicate.value.field == "name"


async def test_only_admins_manage_users(clients: Clients) -> None:
    admin = await clients.admin()
    bob = await clients.user("bob", Role.AUTHOR)
    with pytest.raises(Forbidden, match="admin"):
        await bob.create_user(UserCreate(name="eve", role=Role.ADMIN))
    with pytest.raises(Forbidden):
        await bob.list_users()
    assert "eve" not in [u.name for u in await admin.list_users()]


async def test_a_bad_user_name_is_refused_naming_the_field(clients: Clients) -> None:
    admin = await clients.admin()
    with pytest.raises(Invalid) as error:
        await admin.create_user(
            UserCreate.model_construct(name="no spaces allowed", role=Role.USER)
        )
    assert error.value.field == "name"


async def test_a_wrong_key_is_unauthorized(clients: Clients) -> None:
    async def stranger() -> None:
        client = await clients.connect("mcpc_not-a-real-key")
        await client.whoami()

    with pytest.raises(Unauthorized, match="not valid"):
        await stranger()
