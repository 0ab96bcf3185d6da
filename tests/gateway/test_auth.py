"""Who may call an endpoint: API keys, sharing, rate limits, quotas, origins, body size."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from mcp import MCPError

from mcp_console.backend.deploy.drivers.process import ProcessManager
from mcp_console.backend.gateway.core import GatewayConfig
from mcp_console.backend.gateway.quota import QuotaRefusal
from mcp_console.backend.gateway.records import RequestRecord
from mcp_console.backend.gateway.routing import DeploymentRoute

from .helpers import Caller, GatewayEnv, connect, http_process, innermost, result_of

MODERN = {
    "content-type": "application/json",
    "accept": "application/json, text/event-stream",
    "mcp-protocol-version": "2026-07-28",
    "mcp-method": "tools/call",
    "mcp-name": "add",
}
META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
}
ADD = {
    "jsonrpc": "2.0",
    "id": 7,
    "method": "tools/call",
    "params": {"name": "add", "arguments": {"a": 1, "b": 2}, "_meta": META},
}


async def post(
    env: GatewayEnv, route: DeploymentRoute, caller: Caller | None, **headers: str
) -> httpx.Response:
    """One modern ``tools/call add`` as raw HTTP."""
    sent = dict(MODERN, **(caller.headers if caller else {}), **headers)
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(env.endpoint(route), json=ADD, headers=sent)


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The JSON-RPC error in a refusal's body."""
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["jsonrpc"] == "2.0"
    assert "result" not in body
    error: dict[str, Any] = body["error"]
    return error


@pytest.fixture
async def route(env: GatewayEnv, process_manager: ProcessManager) -> DeploymentRoute:
    return env.deploy(await http_process(process_manager, "one"), name="calc")


async def test_missing_wrong_and_foreign_keys_are_refused(
    env: GatewayEnv, route: DeploymentRoute
) -> None:
    missing = await post(env, route, None)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert error_of(missing)["code"] == -32010
    assert "Authorization: Bearer" in error_of(missing)["message"]

    wrong = await post(env, route, Caller(env.owner.principal, "mcpc_not-a-real-key"))
    assert wrong.status_code == 401
    assert error_of(wrong) == {"code": -32010, "message": "Unauthorized: the API key is not valid"}

    foreign = await post(env, route, env.stranger)
    assert foreign.status_code == 403
    assert error_of(foreign)["code"] == -32011
    assert "/mcp/alice/calc is not shared with carol" in error_of(foreign)["message"]

    for caller in (env.owner, env.friend):
        allowed = await post(env, route, caller)
        assert allowed.status_code == 200
        assert allowed.json()["result"]["structuredContent"] == {"result": 3}

    # Nothing refused reached the instance or was charged to anyone but the refused caller.
    refused = [r for r in env.meter.records if r.status in (401, 403)]
    assert [(r.status, r.user_id, r.instance_id) for r in refused] == [
        (401, None, None),
        (401, None, None),
        (403, env.stranger.principal.user_id, None),
    ]


async def test_the_sdk_client_sees_the_refusal(env: GatewayEnv, route: DeploymentRoute) -> None:
    with pytest.raises(BaseException) as refused:  # noqa: PT011 (an exception group)
        async with connect(env.endpoint(route), env.stranger, "legacy"):
            pass
    error = innermost(refused.value)
    assert isinstance(error, MCPError)
    assert error.error.code == -32011
    async with connect(env.endpoint(route), env.friend) as client:
        assert await result_of(client, "add", {"a": 2, "b": 3}) == 5


async def test_unknown_deployments_and_foreign_sessions_are_not_found(
    env: GatewayEnv, route: DeploymentRoute
) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        unknown = await http.post(
            f"{env.url}/mcp/alice/nothing-here", json=ADD, headers=env.owner.headers
        )
        # Without a valid key nobody learns which deployments exist: 401 either way.
        probes = [
            await http.post(f"{env.url}/mcp/alice/{name}", json=ADD, headers=headers)
            for name in ("nothing-here", route.name)
            for headers in ({}, {"Authorization": "Bearer mcpc_not-a-key"})
        ]
    assert unknown.status_code == 404
    assert error_of(unknown) == {"code": -32015, "message": "no deployment alice/nothing-here"}
    assert [probe.status_code for probe in probes] == [401, 401, 401, 401]

    async with connect(env.endpoint(route), env.owner, "legacy"):
        (session,) = env.gateway.list_sessions()
        # bob may call the deployment, but not inside alice's session.
        borrowed = await post(env, route, env.friend, **{"mcp-session-id": session.id})
        assert borrowed.status_code == 404
        assert error_of(borrowed)["message"] == "Session not found"


class _Quota:
    """A QuotaCheck refusing one user's calls and counting the holds it settles."""

    def __init__(self, refused_user: int) -> None:
        self.refused_user = refused_user
        self.asked: list[tuple[int, str, str | None]] = []
        self.settled: list[tuple[object, int]] = []

    def reserve(
        self, user_id: int, key_id: int | None, deployment_id: int, method: str, tool: str | None
    ) -> object | None:
        self.asked.append((user_id, method, tool))
        if user_id == self.refused_user:
            data = {"limit": "requests per month", "retryAfter": 60}
            raise QuotaRefusal("Quota exceeded: the monthly allowance is used up", data, 60)
        return ("hold", user_id)

    def settle(self, hold: object, record: RequestRecord) -> None:
        self.settled.append((hold, record.status))


async def test_quota_refusals_come_from_the_quota_check(
    env: GatewayEnv, route: DeploymentRoute
) -> None:
    quota = env.gateway.quota = _Quota(env.friend.principal.user_id)
    refused = await post(env, route, env.friend)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "60"
    assert error_of(refused) == {
        "code": -32013,
        "message": "Quota exceeded: the monthly allowance is used up",
        "data": {"limit": "requests per month", "retryAfter": 60},
    }
    assert (await post(env, route, env.owner)).status_code == 200
    owner = env.owner.principal.user_id
    assert quota.asked == [
        (env.friend.principal.user_id, "tools/call", "add"),
        (owner, "tools/call", "add"),
    ]
    # The served call's hold is settled once, when it is over; the refused one held nothing.
    assert quota.settled == [(("hold", owner), 200)]


class TestLimits:
    @pytest.fixture
    def gateway_config(self) -> GatewayConfig:
        # Two requests per key, refilled far slower than any test runs.
        return GatewayConfig(rate_limit=0.001, rate_burst=2, max_body_bytes=2048)

    async def test_a_key_over_its_rate_gets_429_while_others_pass(
        self, env: GatewayEnv, route: DeploymentRoute
    ) -> None:
        statuses = [(await post(env, route, env.owner)).status_code for _ in range(2)]
        limited = await post(env, route, env.owner)
        assert statuses == [200, 200]
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert error_of(limited)["code"] == -32012
        assert (await post(env, route, env.friend)).status_code == 200

    async def test_a_body_over_the_limit_gets_413(
        self, env: GatewayEnv, route: DeploymentRoute
    ) -> None:
        arguments = {"a": 1, "b": 2, "pad": "x" * 4096}
        big = dict(ADD, params={"name": "add", "arguments": arguments, "_meta": META})
        async with httpx.AsyncClient(timeout=30) as http:
            response = await http.post(
                env.endpoint(route), json=big, headers=dict(MODERN, **env.owner.headers)
            )
        assert response.status_code == 413
        assert error_of(response) == {
            "code": -32600,
            "message": "the request body exceeds 2048 bytes",
        }


async def test_browser_origins_are_checked(env: GatewayEnv, route: DeploymentRoute) -> None:
    foreign = await post(env, route, env.owner, origin="http://evil.example")
    assert foreign.status_code == 403
    assert error_of(foreign)["code"] == -32011

    local = await post(env, route, env.owner, origin="http://localhost:6274")
    assert local.status_code == 200
    assert local.headers["access-control-allow-origin"] == "http://localhost:6274"
    assert "mcp-session-id" in local.headers["access-control-expose-headers"]

    async with httpx.AsyncClient(timeout=30) as http:
        preflight = await http.options(
            env.endpoint(route),
            headers={
                "origin": "http://localhost:6274",
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization, mcp-session-id",
            },
        )
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-headers"] == "authorization, mcp-session-id"
