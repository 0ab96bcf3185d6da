"""The deployment operations over the HTTP API (RemoteClient) and in-process (LocalClient)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from mcp_console.backend.api import create_app
from mcp_console.backend.runtime import Runtime
from mcp_console.client.local import LocalClient
from mcp_console.client.protocol import ConsoleClient
from mcp_console.client.remote import RemoteClient
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.schemas.errors import Conflict, Invalid, NotFound
from mcp_console.schemas.users import Role, UserCreate
from tests.api.live import serving

from ..catalogs import SECRET_SCHEMA, SETTLE_TIMEOUT, process_version, publish

TOKEN = "api-secret-5d0b8e21"


@pytest.fixture(params=["local", "remote"])
async def clients(
    request: pytest.FixtureRequest, live: Runtime
) -> AsyncIterator[tuple[ConsoleClient, ConsoleClient]]:
    """The admin and a plain user, over one transport."""
    user = await live.users.create_user(None, UserCreate(name="bob", role=Role.USER))
    admin = live.local_admin
    assert admin is not None
    if request.param == "local":
        yield (
            LocalClient(live, admin),
            LocalClient(live, await live.users.authenticate(user.api_key)),
        )
        return
    admin_key = await live.users.create_key(admin, admin.name)
    async with (
        serving(create_app(live)) as server,
        RemoteClient(server.url, admin_key) as remote_admin,
        RemoteClient(server.url, user.api_key) as remote_user,
    ):
        yield remote_admin, remote_user


async def test_deployments_through_the_client(
    live: Runtime, clients: tuple[ConsoleClient, ConsoleClient]
) -> None:
    admin, bob = clients
    await publish(live, "svc", process_version("1.0.0", schema=SECRET_SCHEMA))
    new = DeploymentCreate(
        service="svc", name="web", secrets={"api_token": TOKEN}, runtime=RuntimeChoice.PROCESS
    )

    created = await bob.create_deployment(new)
    with pytest.raises(Conflict) as taken:
        await bob.create_deployment(new)
    with pytest.raises(Invalid) as bad:
        await bob.create_deployment(
            new.model_copy(update={"name": "other", "config": {"workers": "many"}})
        )
    with pytest.raises(NotFound):
        await admin.get_deployment("web")
    as_admin = await admin.get_deployment("bob/web")
    scaled = await bob.scale_deployment("web", 2)
    with pytest.raises(Invalid) as bad_policy:
        await bob.set_autoscale("web", {"min_replicas": 3, "max_replicas": 1, "target_rps": 5})
    history = await bob.deployment_history("web")
    with anyio.fail_after(SETTLE_TIMEOUT):
        while (ready := await bob.get_deployment("web")).ready_replicas != 2:
            await anyio.sleep(0.1)
    logs = await bob.deployment_logs("web", tail=5)
    await bob.delete_deployment("web")

    assert created.owner == "bob"
    assert TOKEN not in created.model_dump_json()
    assert taken.value.field == "name"
    assert bad.value.field == "config.workers"
    assert as_admin.name == "web"
    assert scaled.replicas == 2
    assert bad_policy.value.field == "autoscale.min_replicas"
    assert [e.action for e in history] == ["scale", "create"]
    assert ready.ready_replicas == 2
    assert {log.instance for log in logs} == {i.name for i in ready.instances}
    assert await bob.list_deployments() == []
