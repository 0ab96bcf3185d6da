"""A deployment shared with a team is called by its members through the gateway, in both
protocol eras, and a revoked key is refused on its very next request, open sessions too."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import httpx2
import pytest
import pytest_asyncio
from mcp import ClientSession, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp.types.version import LATEST_HANDSHAKE_VERSION

from mcp_console.backend.api import create_app
from mcp_console.backend.runtime import Runtime
from mcp_console.client.local import LocalClient
from mcp_console.client.remote import RemoteClient
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice, ShareCreate
from mcp_console.schemas.users import KeyCreate, KeyState, Role, TeamCreate, UserCreate
from tests.api.live import serving
from tests.deploy.catalogs import all_healthy, process_version, publish, wait_for
from tests.live import conftest as live

from .helpers import CLIENT_TIMEOUT, Caller, connect, result_of
from .test_auth import ADD, MODERN

# A backend as the daemon runs it (controller and gateway), on local processes.
backend = live.backend


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Who reaches what is decided the same on either database: SQLite keeps this quick."""
    return sqlite_url


@dataclass
class Shared:
    """Olga's deployment ``calc``, shared with her team ``ops``, which Bob is in."""

    endpoint: str
    owner: Caller
    member: Caller
    outsider: Caller


async def _user(runtime: Runtime, name: str) -> Caller:
    created = await runtime.users.create_user(None, UserCreate(name=name, role=Role.USER))
    return Caller(await runtime.users.authenticate(created.api_key), created.api_key)


@pytest_asyncio.fixture
async def shared(backend: Runtime) -> Shared:
    await publish(backend, "calc", process_version("1.0.0"))
    olga, bob, carol = [await _user(backend, name) for name in ("olga", "bob", "carol")]
    await backend.deployments.create(
        olga.principal,
        DeploymentCreate(service="calc", name="calc", runtime=RuntimeChoice.PROCESS),
    )
    detail = await wait_for(backend, olga.principal, "calc", all_healthy)
    owner = LocalClient(backend, olga.principal)
    await owner.create_team(TeamCreate(name="ops"))
    await owner.add_team_member("ops", "bob")
    await owner.share_deployment("calc", ShareCreate(team="ops"))
    assert detail.endpoint_url == f"{backend.gateway_url}/mcp/olga/calc"
    return Shared(detail.endpoint_url, olga, bob, carol)


async def status_of(endpoint: str, key: str, **headers: str) -> httpx.Response:
    """One modern ``tools/call add`` as raw HTTP with ``key``."""
    sent = dict(MODERN, authorization=f"Bearer {key}", **headers)
    async with httpx.AsyncClient(timeout=CLIENT_TIMEOUT) as http:
        return await http.post(endpoint, json=ADD, headers=sent)


async def test_a_team_member_calls_the_shared_deployment_in_both_eras(
    backend: Runtime, shared: Shared
) -> None:
    # The handshake era: initialize, a session id, then the call.
    async with (
        httpx2.AsyncClient(headers=shared.member.headers, timeout=CLIENT_TIMEOUT) as http,
        streamable_http_client(shared.endpoint, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        started = await session.initialize()
        assert started.protocol_version == LATEST_HANDSHAKE_VERSION
        result = await session.call_tool("add", {"a": 40, "b": 2})
        assert not result.is_error, result.content
        assert result.structured_content == {"result": 42}

    # The 2026-07-28 era: stateless, every request carries its version.
    async with connect(shared.endpoint, shared.member, "2026-07-28") as client:
        assert await result_of(client, "add", {"a": 1, "b": 2}) == 3

    refused = await status_of(shared.endpoint, shared.outsider.key)
    assert refused.status_code == 403
    # Out of the team, refused on the next request.
    await LocalClient(backend, shared.owner.principal).remove_team_member("ops", "bob")
    assert (await status_of(shared.endpoint, shared.member.key)).status_code == 403


async def test_a_revoked_key_is_refused_on_its_next_request_and_its_session_ends(
    backend: Runtime, shared: Shared
) -> None:
    async with serving(create_app(backend)) as api, RemoteClient(api.url, shared.member.key) as bob:
        agent = await bob.create_key(KeyCreate(name="agent", deployments=["olga/calc"]))
        assert agent.key.deployments == ["olga/calc"]
        key = Caller(shared.member.principal, agent.api_key)
        async with (
            httpx2.AsyncClient(headers=key.headers, timeout=CLIENT_TIMEOUT) as http,
            streamable_http_client(shared.endpoint, http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            opened = await session.call_tool("add", {"a": 1, "b": 1})
            assert opened.structured_content == {"result": 2}
            assert (await status_of(shared.endpoint, agent.api_key)).status_code == 200

            revoked = await bob.revoke_key("agent")
            assert revoked.state == KeyState.REVOKED

            # The very next request, in the open session and outside it, is refused.
            with pytest.raises(MCPError, match="the API key is not valid"):
                await session.call_tool("add", {"a": 1, "b": 2})
            fresh = await status_of(shared.endpoint, agent.api_key)
            assert fresh.status_code == 401
            assert "not valid" in fresh.json()["error"]["message"]
    # Bob's own key was not touched.
    assert (await status_of(shared.endpoint, shared.member.key)).status_code == 200
