"""Definition drift reads, approvals and policies answer alike, and refuse alike, through
every client."""

from __future__ import annotations

import sys

import pytest

from mcp_console.client.protocol import ConsoleClient
from mcp_console.schemas.catalog import ServiceCreate, VersionCreate
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice, ShareCreate, ShareRole
from mcp_console.schemas.drift import DriftApproval, DriftPolicy
from mcp_console.schemas.errors import Forbidden, Invalid, NotFound
from mcp_console.schemas.users import Role
from tests.contract.conftest import Clients


async def _deployed(author: ConsoleClient, policy: DriftPolicy = DriftPolicy.ALERT) -> None:
    await author.register_service(ServiceCreate(name="clock", description="Tells the time"))
    command = [sys.executable, "-m", "mcp_console.devtools.example_server"]
    await author.add_version("clock", VersionCreate(version="1.0.0", command=command))
    await author.publish_service("clock")
    await author.create_deployment(
        DeploymentCreate(service="clock", name="web", runtime=RuntimeChoice.PROCESS, drift=policy)
    )


async def test_a_report_its_policy_and_approvals_that_name_what_waits(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    await _deployed(alice)
    report = await alice.drift_report("web")
    assert (report.deployment, report.version, report.policy) == ("web", "1.0.0", "alert")
    assert (report.findings, report.blocked_tools) == ([], [])
    assert (await alice.set_drift_policy("web", DriftPolicy.BLOCK)).policy is DriftPolicy.BLOCK
    assert (await alice.drift_report("web")).policy is DriftPolicy.BLOCK
    assert (await alice.approve_drift("web", DriftApproval(all=True))).findings == []
    with pytest.raises(Invalid, match="waiting: none") as unknown:
        await alice.approve_drift("web", DriftApproval(names=["echo"]))
    assert unknown.value.field == "names"
    with pytest.raises(NotFound):
        await alice.drift_report("nothing")


@pytest.mark.not_modelled_by_fake("FakeClient's deployments belong to one owner")
async def test_callers_may_not_read_or_approve_operators_may(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    bob = await clients.user("bob", Role.USER)
    carol = await clients.user("carol", Role.USER)
    await _deployed(alice, DriftPolicy.BLOCK)
    await alice.share_deployment("web", ShareCreate(user="bob", role=ShareRole.CALLER))
    await alice.share_deployment("web", ShareCreate(user="carol", role=ShareRole.OPERATOR))
    with pytest.raises(Forbidden, match="operators"):
        await bob.drift_report("alice/web")
    with pytest.raises(Forbidden):
        await bob.approve_drift("alice/web", DriftApproval(all=True))
    with pytest.raises(Forbidden):
        await bob.set_drift_policy("alice/web", DriftPolicy.ALERT)
    assert (await carol.drift_report("alice/web")).policy is DriftPolicy.BLOCK
    relaxed = await carol.set_drift_policy("alice/web", DriftPolicy.ALERT)
    assert (relaxed.deployment, relaxed.policy) == ("alice/web", DriftPolicy.ALERT)
