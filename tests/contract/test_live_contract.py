"""Live figures, sessions and the inspector behave the same through both clients."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from mcp import MCPError

from mcp_console.backend.runtime import Runtime
from mcp_console.client.protocol import ConsoleClient
from mcp_console.schemas.errors import Invalid, NotFound
from mcp_console.schemas.monitor import RpcDirection, SessionState
from tests.contract.conftest import API_TRANSPORTS, Clients, backend_clients
from tests.gateway.helpers import connect, result_of
from tests.live.conftest import backend  # noqa: F401
from tests.live.helpers import EXAMPLE_TOOLS, Deployed, deploy_example, unknown_method


class Live:
    """A deployed example server and clients acting as its owner, a stranger and the admin."""

    def __init__(
        self,
        deployed: Deployed,
        owner: ConsoleClient,
        stranger: ConsoleClient,
        admin: ConsoleClient,
    ) -> None:
        self.deployed = deployed
        self.owner = owner
        self.stranger = stranger
        self.admin = admin


async def _live(deployed: Deployed, clients: Clients) -> Live:
    return Live(
        deployed,
        await clients.connect(deployed.owner.key),
        await clients.connect(deployed.stranger.key),
        await clients.admin(),
    )


# Not over FakeClient: it runs no servers (its figures and sessions are canned in
# tests.tui.fake_live), so only the real clients can show these agree.
@pytest_asyncio.fixture(params=["local", *API_TRANSPORTS])
async def live(request: pytest.FixtureRequest, backend: Runtime) -> AsyncIterator[Live]:  # noqa: F811
    """The example server deployed by alice, reached over one transport."""
    deployed = await deploy_example(backend)
    async with backend_clients(backend, request.param) as clients:
        yield await _live(deployed, clients)


async def test_figures_and_sessions(live: Live) -> None:
    d = live.deployed
    async with connect(d.endpoint, d.owner) as client:
        for i in range(3):
            assert await result_of(client, "add", {"a": i, "b": 1}) == i + 1
    await unknown_method(d.endpoint, d.owner)

    metrics = await live.owner.deployment_metrics("calc")
    assert sum(p.errors for p in metrics.points) == 1
    assert sum(p.requests for p in metrics.points) >= 4
    (instance,) = metrics.instances
    assert instance.requests_per_s > 0
    assert instance.memory_mb is not None
    (row,) = await live.owner.list_deployments()
    assert row.requests_per_s is not None
    assert row.requests_per_s > 0
    assert (await live.owner.get_deployment("calc")).error_rate == pytest.approx(
        metrics.error_rate, rel=0.5
    )
    with pytest.raises(NotFound):
        await live.stranger.deployment_metrics("calc")

    async with connect(d.endpoint, d.owner, "legacy") as first:
        assert await result_of(first, "counter") == 1
        (one,) = await live.owner.list_sessions("calc")
        async with connect(d.endpoint, d.owner, "legacy") as second:
            assert await result_of(second, "whoami") == one.instance
            listed = await live.owner.list_sessions("calc")
            assert [s.id for s in listed][1:] == [one.id]  # newest first
            two = listed[0]
            assert (two.user, two.state, two.instance) == (
                "alice",
                SessionState.ACTIVE,
                one.instance,
            )
            with pytest.raises(NotFound):
                await live.stranger.list_sessions("calc")
            with pytest.raises(NotFound):
                await live.stranger.kill_session("calc", one.id)
            with pytest.raises(NotFound) as unknown:
                await live.owner.drain_session("calc", "no-such-session")
            assert unknown.value.field == "session"

            drained = await live.owner.drain_session("calc", two.id)
            assert (drained.id, drained.state) == (two.id, SessionState.DRAINING)
            await live.owner.kill_session("calc", one.id)
            assert [s.id for s in await live.owner.list_sessions("calc")] == [two.id]
            with pytest.raises(MCPError, match="Session not found"):
                await first.call_tool("counter", {})
    with pytest.raises(NotFound):
        await live.owner.kill_session("calc", one.id)


async def test_inspector(live: Live) -> None:
    report = await live.owner.inspect_deployment("calc")
    assert {t.name for t in report.tools} == EXAMPLE_TOOLS
    assert report.server_name == "mcp-console-example"
    assert any(m.payload.get("method") == "tools/list" for m in report.exchange)

    outcome = await live.owner.call_tool("calc", "add", {"a": 2, "b": 40})
    assert (outcome.is_error, outcome.structured) == (False, {"result": 42})
    calls = [
        m
        for m in outcome.exchange
        if m.direction is RpcDirection.SENT and m.payload.get("method") == "tools/call"
    ]
    assert len(calls) == 1
    replies = [
        m.payload
        for m in outcome.exchange
        if m.direction is RpcDirection.RECEIVED and m.payload.get("id") == calls[0].payload["id"]
    ]
    assert replies[0]["result"]["structuredContent"] == {"result": 42}
    assert (await live.owner.call_tool("calc", "sleep", {"seconds": -1})).is_error

    with pytest.raises(Invalid) as wrong:
        await live.owner.call_tool("calc", "add", {"a": "two", "b": 40})
    assert wrong.value.field == "a"
    with pytest.raises(Invalid) as unknown:
        await live.owner.call_tool("calc", "divide", {})
    assert unknown.value.field == "tool"
    with pytest.raises(NotFound):
        await live.stranger.inspect_deployment("calc")
    with pytest.raises(NotFound):
        await live.stranger.call_tool("calc", "add", {"a": 1, "b": 2})
    # An admin reaches every deployment, through its endpoint as any caller would.
    added = await live.admin.call_tool("alice/calc", "add", {"a": 1, "b": 2})
    assert added.structured == {"result": 3}
    assert (await live.admin.deployment_metrics("alice/calc")).deployment == "alice/calc"
