"""A deployment's audit policy for tool-call arguments: set, changed and refused alike by every
client."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from mcp_console.client.protocol import ConsoleClient
from mcp_console.schemas.audit import AuditArguments
from mcp_console.schemas.catalog import ServiceCreate, VersionCreate
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.users import Role
from tests.contract.conftest import Clients


async def _deployed(author: ConsoleClient, **fields: Any) -> None:
    await author.register_service(ServiceCreate(name="clock", description="Tells the time"))
    await author.add_version(
        "clock",
        VersionCreate(
            version="1.0.0", command=[sys.executable, "-m", "mcp_console.devtools.example_server"]
        ),
    )
    await author.publish_service("clock")
    await author.create_deployment(
        DeploymentCreate(service="clock", name="web", runtime=RuntimeChoice.PROCESS, **fields)
    )


async def test_the_policy_is_set_at_creation_and_changed_by_an_update(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    await _deployed(alice, audit_arguments=AuditArguments.REDACTED)

    created = await alice.get_deployment("web")
    changed = await alice.update_deployment("web", audit_arguments=AuditArguments.NONE)

    assert created.audit_arguments is AuditArguments.REDACTED
    assert changed.audit_arguments is AuditArguments.NONE
    assert (await alice.get_deployment("web")).audit_arguments is AuditArguments.NONE
    assert changed.version == "1.0.0"


async def test_a_deployment_digests_arguments_unless_told_otherwise(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    await _deployed(alice)
    assert (await alice.get_deployment("web")).audit_arguments is AuditArguments.DIGEST


@pytest.mark.parametrize(
    ("change", "field"),
    [({"audit_arguments": "everything"}, "audit_arguments"), ({}, "version")],
)
async def test_a_bad_or_empty_update_is_refused_naming_the_field(
    clients: Clients, change: dict[str, Any], field: str
) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    await _deployed(alice)

    with pytest.raises(Invalid) as refused:
        await alice.update_deployment("web", **change)

    assert refused.value.field == field
    assert (await alice.get_deployment("web")).audit_arguments is AuditArguments.DIGEST
