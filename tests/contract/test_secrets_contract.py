"""Stored secrets and in-place settings changes behave the same through every client:
secrets listed by name only, each user's own; a change reported (secrets as "changed"),
checked as on create, and a dry run changes nothing."""

from __future__ import annotations

import sys

import pytest

from mcp_console.schemas.catalog import ServiceCreate, VersionCreate
from mcp_console.schemas.deploy import DeploymentCreate, DeploymentReconfigure, RuntimeChoice
from mcp_console.schemas.errors import Invalid, NotFound
from mcp_console.schemas.users import Role
from tests.contract.conftest import Clients

VALUE = "contract-secret-5d1e07"
SCHEMA = {
    "type": "object",
    "properties": {
        "region": {"type": "string", "enum": ["eu", "us"], "default": "eu"},
        "token": {"type": "string", "x-secret": True},
    },
}


async def test_stored_secrets_are_listed_by_name_and_each_user_s_own(clients: Clients) -> None:
    alice = await clients.user("alice", Role.USER)
    bob = await clients.user("bob", Role.USER)
    stored = await alice.set_secret("api-token", VALUE)
    await alice.set_secret("api-token", VALUE + "2")  # again: replaced
    mine = await alice.list_secrets()
    theirs = await bob.list_secrets()
    with pytest.raises(Invalid) as bad_name:
        await alice.set_secret("no spaces", VALUE)
    with pytest.raises(NotFound):
        await bob.delete_secret("api-token")
    await alice.delete_secret("api-token")
    with pytest.raises(NotFound):
        await alice.delete_secret("api-token")

    assert (stored.name, stored.owner) == ("api-token", "alice")
    assert [s.name for s in mine] == ["api-token"]
    assert VALUE not in repr(mine)
    assert theirs == []
    assert bad_name.value.field == "name"
    assert await alice.list_secrets() == []


async def test_a_change_is_reported_checked_and_a_dry_run_changes_nothing(
    clients: Clients,
) -> None:
    admin = await clients.admin()
    await admin.register_service(ServiceCreate(name="cfg", description="configurable"))
    await admin.add_version(
        "cfg",
        VersionCreate(
            version="1.0.0",
            command=[sys.executable, "-m", "mcp_console.devtools.example_server"],
            config_schema=SCHEMA,
        ),
    )
    await admin.publish_service("cfg")
    await admin.set_secret("cfg-token", VALUE)
    new = DeploymentCreate(
        service="cfg",
        name="cfg",
        secrets={"token": "first"},
        replicas=0,
        runtime=RuntimeChoice.PROCESS,
    )
    await admin.create_deployment(new)
    change = DeploymentReconfigure(config={"region": "us"}, secret_refs={"token": "cfg-token"})

    planned = await admin.reconfigure_deployment("cfg", change.model_copy(update={"dry_run": True}))
    still = await admin.get_deployment("cfg")
    done = await admin.reconfigure_deployment("cfg", change)
    again = await admin.reconfigure_deployment("cfg", change)
    with pytest.raises(Invalid) as wrong:
        await admin.reconfigure_deployment("cfg", DeploymentReconfigure(config={"region": "x"}))
    with pytest.raises(NotFound) as missing:
        await admin.reconfigure_deployment(
            "cfg", DeploymentReconfigure(secret_refs={"token": "nope"})
        )

    expected = {"config.region": ["eu", "us"], "secrets.token": ["(set)", "(changed)"]}
    assert (planned.dry_run, planned.changes) == (True, expected)
    assert still.config["region"] == "eu"
    assert (done.dry_run, done.changes) == (False, expected)
    assert done.deployment.config["region"] == "us"
    assert again.changes == {}
    assert VALUE not in repr([planned, done, again])
    assert wrong.value.field == "config.region"
    assert missing.value.field == "secret_refs.token"
