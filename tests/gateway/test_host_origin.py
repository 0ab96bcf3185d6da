"""The gateway answers only for the Host names and browser origins it allows (DNS rebinding)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from mcp_console.backend.deploy.drivers.process import ProcessManager
from mcp_console.backend.gateway.allow_list import MAX_VERDICTS, AllowList
from mcp_console.backend.gateway.core import Gateway, GatewayConfig
from mcp_console.backend.gateway.routing import DeploymentRoute
from mcp_console.backend.gateway.server import GatewayServer, allowed_hosts
from mcp_console.backend.runtime import Runtime
from mcp_console.settings import GatewaySettings, Settings

from .helpers import Caller, GatewayEnv, connect, http_process, result_of
from .test_auth import ADD, MODERN, error_of

FORBIDDEN = -32011


async def _post(url: str, caller: Caller | None, **headers: str) -> httpx.Response:
    sent = dict(MODERN, **(caller.headers if caller else {}), **headers)
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(url, json=ADD, headers=sent)


def _answer(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()["result"]["structuredContent"]["result"]


@pytest.fixture
async def route(env: GatewayEnv, process_manager: ProcessManager) -> DeploymentRoute:
    return env.deploy(await http_process(process_manager, "one"), name="calc")


async def test_a_foreign_host_is_refused_even_with_a_valid_key(
    env: GatewayEnv, route: DeploymentRoute
) -> None:
    refused = await _post(env.endpoint(route), env.owner, host="evil.example.com")

    assert refused.status_code == 403
    error = error_of(refused)
    assert error["code"] == FORBIDDEN
    assert "'evil.example.com'" in error["message"]
    assert "MCP_CONSOLE_GATEWAY__ALLOWED_HOSTS" in error["message"]
    # Nothing went upstream: the server never saw the call.
    assert env.meter.calls("add") == []


async def test_a_foreign_host_learns_nothing_about_deployments_or_keys(
    env: GatewayEnv, route: DeploymentRoute
) -> None:
    url = env.url + "/mcp/nobody/nothing"
    for target, caller in ((url, None), (env.endpoint(route), None), (url, env.owner)):
        refused = await _post(target, caller, host="rebound.attacker.example:8766")
        assert refused.status_code == 403
        assert error_of(refused)["code"] == FORBIDDEN
        assert "www-authenticate" not in refused.headers


async def test_loopback_names_are_served_on_any_port(
    env: GatewayEnv, route: DeploymentRoute
) -> None:
    port = env.url.rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "LocalHost:80", "localhost"):
        assert _answer(await _post(env.endpoint(route), env.owner, host=host)) == 3

    # The SDK's own client, addressing the gateway as localhost.
    async with connect(env.endpoint(route).replace("127.0.0.1", "localhost"), env.owner) as c:
        assert await result_of(c, "add", {"a": 20, "b": 22}) == 42


async def test_a_foreign_origin_is_refused_on_an_allowed_host(
    env: GatewayEnv, route: DeploymentRoute
) -> None:
    refused = await _post(env.endpoint(route), env.owner, origin="http://evil.example.com")
    assert refused.status_code == 403
    assert error_of(refused)["code"] == FORBIDDEN
    assert "origin" in error_of(refused)["message"]

    allowed = await _post(env.endpoint(route), env.owner, origin="http://localhost:6274")
    assert _answer(allowed) == 3


async def test_hosts_and_origins_come_from_the_settings(
    runtime: Runtime, process_manager: ProcessManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCP_CONSOLE_GATEWAY__ALLOWED_HOSTS", '["mcp.example.com"]')
    monkeypatch.setenv("MCP_CONSOLE_GATEWAY__ALLOWED_ORIGINS", '["https://app.example.com"]')
    settings = Settings(gateway_port=0)
    server = GatewayServer.from_settings(settings, runtime.users.authenticate)
    url = await server.start()
    try:
        admin = runtime.local_admin
        assert admin is not None
        key = await runtime.users.create_key(admin, admin.name, label="tests")
        caller = Caller(await runtime.users.authenticate(key), key)
        route = server.gateway.routes.upsert_deployment(
            DeploymentRoute(
                deployment_id=1,
                owner_id=caller.principal.user_id,
                owner_name=caller.principal.name,
                name="calc",
            )
        )
        server.gateway.routes.set_instance(1, await http_process(process_manager, "one"))
        endpoint = url + route.path

        named = await _post(endpoint, caller, host="mcp.example.com")
        # The address it is bound to (127.0.0.1) stays reachable beside the named host.
        by_address = await _post(endpoint, caller)
        from_app = await _post(
            endpoint, caller, host="mcp.example.com", origin="https://app.example.com"
        )
        elsewhere = await _post(endpoint, caller, host="localhost")
        from_localhost_page = await _post(endpoint, caller, origin="http://localhost:3000")
    finally:
        await server.stop()

    assert _answer(named) == 3
    assert _answer(by_address) == 3
    assert _answer(from_app) == 3
    assert from_app.headers["access-control-allow-origin"] == "https://app.example.com"
    assert elsewhere.status_code == 403
    assert from_localhost_page.status_code == 403


def test_the_bound_address_is_allowed_but_a_wildcard_bind_adds_nothing() -> None:
    hosts = GatewaySettings(allowed_hosts=["mcp.example.com"])
    assert allowed_hosts(Settings(bind_host="192.168.1.5", gateway=hosts)) == (
        "mcp.example.com",
        "192.168.1.5:*",
    )
    assert allowed_hosts(Settings(bind_host="::1", gateway=hosts))[-1] == "[::1]:*"
    assert allowed_hosts(Settings(bind_host="0.0.0.0", gateway=hosts)) == ("mcp.example.com",)  # noqa: S104


@pytest.mark.parametrize(
    ("value", "allowed"),
    [
        ("localhost:8766", True),
        ("localhost", True),
        ("LOCALHOST:8766", True),
        ("[::1]:8766", True),
        ("127.0.0.1:65535", True),
        ("localhost.evil.example:8766", False),
        ("evil.example/localhost:8766", False),
        ("localhost:8766@evil.example", False),
        ("localhost:87x6", False),
        ("localhost:", False),
        ("localhost:\xb2", False),
        ("127.0.0.2:8766", False),
        ("mcp.example.com", True),
        ("mcp.example.com:443", False),
        ("", False),
    ],
)
def test_host_patterns(value: str, allowed: bool) -> None:
    check = AllowList(["127.0.0.1:*", "localhost:*", "[::1]:*", "mcp.example.com"])
    assert check(value.encode("latin-1")) is allowed


def test_verdicts_are_remembered_up_to_a_bound() -> None:
    check = AllowList(["localhost:*"])
    for n in range(MAX_VERDICTS + 500):
        assert not check(f"attacker-{n}.example".encode())
    assert check(b"localhost:1")
    assert len(check._verdicts) == MAX_VERDICTS


@pytest.mark.parametrize(
    ("field", "pattern"),
    [
        ("allowed_hosts", "http://localhost:8766"),
        ("allowed_hosts", "local host"),
        ("allowed_origins", "localhost:3000"),
        ("allowed_origins", "http://app.example.com/path"),
    ],
)
def test_a_malformed_pattern_is_refused_by_name(field: str, pattern: str) -> None:
    with pytest.raises(ValidationError, match=r"not an? (host|origin) pattern"):
        GatewaySettings.model_validate({field: [pattern]})


async def test_a_gateway_with_no_host_allowed_answers_nobody(
    runtime: Runtime, process_manager: ProcessManager
) -> None:
    gateway = Gateway(runtime.users.authenticate, config=GatewayConfig(allowed_hosts=()))
    server = GatewayServer(gateway)
    url = await server.start()
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            refused = await http.post(url + "/mcp/a/b", json=ADD, headers=MODERN)
    finally:
        await server.stop()
    assert refused.status_code == 403
    assert error_of(refused)["code"] == FORBIDDEN
