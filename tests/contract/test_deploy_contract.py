"""Creating a deployment checks its configuration the same way through every client.

No controller runs in these backends: what is compared is what is refused, recorded and shown.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from mcp_console.backend.security.secrets import MASK
from mcp_console.client.protocol import ConsoleClient
from mcp_console.schemas.catalog import ServiceCreate, VersionCreate
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.schemas.errors import Conflict, Invalid, NotFound
from mcp_console.schemas.users import Role
from tests.contract.conftest import Clients

TOKEN = "tok-3e9a-never-shown"
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "workers": {"type": "integer", "minimum": 1, "default": 2},
        "region": {"type": "string", "enum": ["eu", "us"], "default": "eu"},
        # Marked as a hand-written catalog might: the console masks it, the backend encrypts it.
        "token": {"type": "string", "x-secret": "yes", "x-env": "TOKEN"},
    },
    "required": ["token"],
}


async def _published(author: ConsoleClient) -> None:
    await author.register_service(ServiceCreate(name="clock", description="Tells the time"))
    await author.add_version(
        "clock",
        VersionCreate(
            version="1.0.0",
            command=[sys.executable, "-m", "mcp_console.devtools.example_server"],
            config_schema=SCHEMA,
        ),
    )
    await author.publish_service("clock")


def _create(**fields: Any) -> DeploymentCreate:
    values: dict[str, Any] = {
        "service": "clock",
        "name": "web",
        "secrets": {"token": TOKEN},
        "runtime": RuntimeChoice.PROCESS,
    }
    return DeploymentCreate.model_validate(values | fields)


async def test_config_is_checked_typed_and_its_secrets_kept_secret(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    await _published(alice)

    with pytest.raises(Invalid) as missing:
        await alice.create_deployment(_create(secrets={}))
    assert (missing.value.field, missing.value.message) == (
        "config.token",
        "config.token: required",
    )
    with pytest.raises(Invalid) as in_clear:
        await alice.create_deployment(_create(config={"token": TOKEN}, secrets={}))
    assert in_clear.value.field == "config.token"
    assert "is a secret" in in_clear.value.message
    assert TOKEN not in in_clear.value.message
    with pytest.raises(Invalid) as wrong_type:
        await alice.create_deployment(_create(config={"workers": "many"}))
    assert wrong_type.value.message == "config.workers: must be an integer, got 'many'"
    assert await alice.list_deployments() == []

    created = await alice.create_deployment(_create(config={"workers": "3"}))
    assert created.config == {"workers": 3, "region": "eu", "token": MASK}
    assert created.secret_names == ["token"]
    assert TOKEN not in created.model_dump_json()
    shown = await alice.get_deployment("web")
    assert (shown.config, shown.secret_names) == (created.config, ["token"])
    assert [d.name for d in await alice.list_deployments()] == ["web"]

    with pytest.raises(Conflict) as taken:
        await alice.create_deployment(_create())
    assert taken.value.field == "name"
    with pytest.raises(Invalid) as too_many:
        await alice.scale_deployment("web", 51)
    assert too_many.value.field == "replicas"


@pytest.mark.not_modelled_by_fake("FakeClient's deployments belong to one owner")
async def test_a_deployment_is_its_owners(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    bob = await clients.user("bob", Role.USER)
    await _published(alice)
    await alice.create_deployment(_create())
    with pytest.raises(NotFound):
        await bob.get_deployment("web")
    assert await bob.list_deployments() == []
