"""/metrics on the API port: an admin's key by default, open when configured, always answering."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from mcp_console.backend.api import create_app
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.deploy import DeploymentCreate, RuntimeChoice
from mcp_console.schemas.users import KeyCreate, Role, UserCreate
from mcp_console.settings import MonitorSettings, Settings
from tests.api.live import auth, error_of, serving
from tests.deploy.catalogs import process_version, publish

# Fixture: ``database_url`` (SQLite only).
from tests.monitor.served import sqlite_only  # noqa: F401

FAMILIES = {
    "mcp_server_operation_duration_seconds",
    "mcp_console_gateway_requests",
    "mcp_console_gateway_received_bytes",
    "mcp_console_gateway_sent_bytes",
    "mcp_console_gateway_inflight_requests",
    "mcp_console_gateway_instances",
    "mcp_console_gateway_sessions",
    "mcp_console_instance_consecutive_restarts",
    "mcp_console_deployment_restarts",
    "mcp_console_instance_cpu_percent",
    "mcp_console_instance_memory_bytes",
    "mcp_console_deployment_instances",
}


async def served(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        serving(create_app(runtime)) as live,
        httpx.AsyncClient(base_url=live.url, timeout=10) as http,
    ):
        yield http


@pytest_asyncio.fixture
async def api(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The API of a short-lived backend (no gateway), without credentials."""
    async for http in served(runtime):
        yield http


@pytest_asyncio.fixture
async def open_api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API of a backend configured with ``metrics_auth = "none"``."""
    opened = settings.model_copy(update={"monitor": MonitorSettings(metrics_auth="none")})
    async with Runtime(opened, migrate=False) as runtime:
        async for http in served(runtime):
            yield http


async def key_of(runtime: Runtime, name: str, role: Role) -> str:
    return (await runtime.users.create_user(None, UserCreate(name=name, role=role))).api_key


def families(text: str) -> set[str]:
    return {family.name for family in text_string_to_metric_families(text)}


async def test_without_a_key_metrics_are_refused_with_401(api: httpx.AsyncClient) -> None:
    response = await api.get("/metrics")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "API key is required" in error_of(response)["message"]

    wrong = await api.get("/metrics", headers=auth("mcpc_not-a-key"))
    assert wrong.status_code == 401


async def test_keys_of_users_who_are_not_admins_get_403_saying_why(
    api: httpx.AsyncClient, runtime: Runtime
) -> None:
    for name, role in (("uma", Role.USER), ("arthur", Role.AUTHOR)):
        response = await api.get("/metrics", headers=auth(await key_of(runtime, name, role)))
        assert response.status_code == 403, name
        error = error_of(response)
        assert error["code"] == "forbidden"
        assert "admin's API key" in error["message"]
        assert "MCP_CONSOLE_MONITOR__METRICS_AUTH=none" in error["message"]


async def test_an_admins_key_limited_to_one_deployment_gets_403(
    api: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await publish(runtime, "calc", process_version("1.0.0"))
    await runtime.deployments.create(
        admin, DeploymentCreate(service="calc", name="calc", runtime=RuntimeChoice.PROCESS)
    )
    scoped = await runtime.keys.create(admin, KeyCreate(name="agent", deployments=["calc"]))
    response = await api.get("/metrics", headers=auth(scoped.api_key))
    assert response.status_code == 403
    assert "without a scope" in error_of(response)["message"]


async def test_an_admin_scrapes_the_prometheus_text_format_even_with_no_gateway(
    api: httpx.AsyncClient, runtime: Runtime
) -> None:
    assert runtime.gateway is None  # a short-lived backend: nothing served, nothing counted
    response = await api.get("/metrics", headers=auth(await key_of(runtime, "ada", Role.ADMIN)))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert families(response.text) == FAMILIES
    # Every family is declared, none has a sample yet.
    samples = [s for f in text_string_to_metric_families(response.text) for s in f.samples]
    assert samples == []


async def test_metrics_auth_none_opens_metrics_to_any_scraper(open_api: httpx.AsyncClient) -> None:
    response = await open_api.get("/metrics")
    assert response.status_code == 200
    assert families(response.text) == FAMILIES
    # Only /metrics is opened: the rest of the API still wants a key.
    assert (await open_api.get("/api/v1/me")).status_code == 401
