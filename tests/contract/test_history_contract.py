"""The metrics history answers the same shape, and refuses the same input, through every client."""

from __future__ import annotations

import sys
from datetime import timedelta

import pytest

from mcp_console.client.protocol import ConsoleClient
from mcp_console.schemas.catalog import ServiceCreate, VersionCreate
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.schemas.errors import Invalid, NotFound
from mcp_console.schemas.monitor import Breakdown, HistoryRange
from mcp_console.schemas.users import Role
from tests.contract.conftest import Clients


async def _deployed(author: ConsoleClient) -> None:
    await author.register_service(ServiceCreate(name="clock", description="Tells the time"))
    command = [sys.executable, "-m", "mcp_console.devtools.example_server"]
    await author.add_version("clock", VersionCreate(version="1.0.0", command=command))
    await author.publish_service("clock")
    await author.create_deployment(
        DeploymentCreate(service="clock", name="web", runtime=RuntimeChoice.PROCESS)
    )


async def test_each_range_has_its_step_and_points(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    await _deployed(alice)
    for period, step, points in (("15m", 10, 90), ("24h", 600, 144), ("7d", 3600, 168)):
        history = await alice.metrics_history("web", period)
        assert (history.period, history.step_s) == (HistoryRange(period), step)
        assert len(history.total.points) == points
        assert (history.deployment, history.by, history.breakdown) == ("web", None, [])
    by_tool = await alice.metrics_history("web", "1h", "tool")
    assert by_tool.by is Breakdown.TOOL
    assert by_tool.end - by_tool.start == timedelta(hours=1)
    assert by_tool.total.points[0].at == by_tool.start
    with pytest.raises(NotFound):
        await alice.metrics_history("nothing", "1h")


async def test_a_wrong_range_or_breakdown_is_named(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    await _deployed(alice)
    with pytest.raises(Invalid, match="'2w'") as bad_range:
        await alice.metrics_history("web", "2w")
    assert bad_range.value.field == "range"
    with pytest.raises(Invalid, match="'region'") as bad_by:
        await alice.metrics_history("web", "1h", "region")
    assert bad_by.value.field == "by"


@pytest.mark.not_modelled_by_fake("FakeClient's deployments belong to one owner")
async def test_only_those_who_see_a_deployment_read_its_history(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    bob = await clients.user("bob", Role.USER)
    await _deployed(alice)
    with pytest.raises(NotFound):
        await bob.metrics_history("web", "1h")
    with pytest.raises(NotFound):
        await bob.metrics_history("alice/web", "1h")
    admin = await clients.admin()
    assert (await admin.metrics_history("alice/web", "15m")).deployment == "alice/web"
