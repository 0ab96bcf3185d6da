"""Fixtures for the gateway tests: a served gateway on a real user database, real servers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from mcp_console.backend.gateway.core import Gateway, GatewayConfig
from mcp_console.backend.gateway.server import GatewayServer
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.users import Role, UserCreate

# The deploy tests' fixtures: locally built images, drivers cleaned up after each test.
from tests.deploy.conftest import (  # noqa: F401
    base_image,
    docker_manager,
    example_image,
    process_manager,
    time_server_image,
    venv_root,
)

from .helpers import Caller, GatewayEnv, RecordingMeter


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Users and keys behave the same on either database: SQLite keeps these tests quick."""
    return sqlite_url


@pytest.fixture
def gateway_config() -> GatewayConfig:
    """The gateway's configuration (tests may override it)."""
    return GatewayConfig()


async def _caller(runtime: Runtime, name: str) -> Caller:
    created = await runtime.users.create_user(None, UserCreate(name=name, role=Role.USER))
    return Caller(await runtime.users.authenticate(created.api_key), created.api_key)


@pytest_asyncio.fixture
async def env(runtime: Runtime, gateway_config: GatewayConfig) -> AsyncIterator[GatewayEnv]:
    """A gateway served on a loopback port, authenticating against the runtime's users."""
    meter = RecordingMeter()
    gateway = Gateway(runtime.users.authenticate, config=gateway_config, meter=meter)
    server = GatewayServer(gateway)
    url = await server.start()
    try:
        yield GatewayEnv(
            gateway=gateway,
            url=url,
            meter=meter,
            owner=await _caller(runtime, "alice"),
            friend=await _caller(runtime, "bob"),
            stranger=await _caller(runtime, "carol"),
        )
    finally:
        await server.stop()
