"""Gateway sessions of a deployment: listed with who and what, drained or killed by the owner."""

from __future__ import annotations

import anyio
import pytest
from mcp import MCPError

from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.errors import NotFound
from mcp_console.schemas.monitor import SessionState
from tests.gateway.helpers import connect, result_of

from .helpers import Deployed

SESSION_GONE = "Session not found"
# The gateway ends a drained session once it has been idle for its drain grace (2 s).
DRAIN_WAIT = 30.0


async def test_a_session_is_listed_and_killing_it_ends_it(
    backend: Runtime, deployed: Deployed
) -> None:
    owner = deployed.owner.principal
    assert await backend.gateway_sessions.list_sessions(owner, "calc") == []
    async with connect(deployed.endpoint, deployed.owner, "legacy") as client:
        assert await result_of(client, "counter") == 1
        (session,) = await backend.gateway_sessions.list_sessions(owner, "calc")
        assert session.deployment == "calc"
        assert session.instance == deployed.detail.instances[0].name
        assert (session.state, session.user, session.in_flight) == (
            SessionState.ACTIVE,
            "alice",
            0,
        )
        assert session.protocol == client.protocol_version
        assert session.client is not None
        assert session.client.startswith("mcp")
        assert session.requests >= 2  # initialize, initialized, the call...

        # Nobody else can see or end it; an admin sees it under the owner's name.
        sessions, stranger = backend.gateway_sessions, deployed.stranger.principal
        for act in (
            lambda: sessions.list_sessions(stranger, "calc"),
            lambda: sessions.kill_session(stranger, "calc", session.id),
            lambda: sessions.drain_session(stranger, "calc", session.id),
        ):
            with pytest.raises(NotFound):
                await act()
        admin = backend.local_admin
        assert admin is not None
        (seen,) = await backend.gateway_sessions.list_sessions(admin, "alice/calc")
        assert (seen.id, seen.deployment) == (session.id, "alice/calc")

        await backend.gateway_sessions.kill_session(owner, "calc", session.id)
        assert await backend.gateway_sessions.list_sessions(owner, "calc") == []
        with pytest.raises(MCPError, match=SESSION_GONE):
            await client.call_tool("counter", {})

    with pytest.raises(NotFound) as gone:
        await backend.gateway_sessions.kill_session(owner, "calc", session.id)
    assert gone.value.field == "session"


async def test_a_drained_session_ends_once_idle(backend: Runtime, deployed: Deployed) -> None:
    owner = deployed.owner.principal
    async with connect(deployed.endpoint, deployed.owner, "legacy") as client:
        assert await result_of(client, "counter") == 1
        (session,) = await backend.gateway_sessions.list_sessions(owner, "calc")

        drained = await backend.gateway_sessions.drain_session(owner, "calc", session.id)
        assert (drained.id, drained.state) == (session.id, SessionState.DRAINING)
        with anyio.fail_after(DRAIN_WAIT):
            while await backend.gateway_sessions.list_sessions(owner, "calc"):
                await anyio.sleep(0.1)
        with pytest.raises(MCPError, match=SESSION_GONE):
            await client.call_tool("counter", {})

    with pytest.raises(NotFound):
        await backend.gateway_sessions.drain_session(owner, "calc", "no-such-session")
