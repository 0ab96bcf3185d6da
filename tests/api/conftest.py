"""The API under test: a runtime on SQLite served by uvicorn on a loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from mcp_console.backend.api import create_app
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.users import Role, UserCreate
from tests.api.live import Live, auth, serving

KEEPALIVE_SECONDS = 0.3


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The API is the same over either database: SQLite keeps these tests quick."""
    return sqlite_url


@dataclass
class Api:
    """A served app, an HTTP client without credentials, and the admin's token."""

    runtime: Runtime
    app: FastAPI
    live: Live
    http: httpx.AsyncClient
    admin_token: str

    @property
    def admin(self) -> dict[str, str]:
        """Headers acting as the local admin."""
        return auth(self.admin_token)

    async def user(self, name: str, role: Role) -> dict[str, str]:
        """Headers acting as a new user."""
        created = await self.runtime.users.create_user(None, UserCreate(name=name, role=role))
        return auth(created.api_key)


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    """The app (tests may add routes before it is served)."""
    return create_app(runtime, keepalive_seconds=KEEPALIVE_SECONDS)


@pytest_asyncio.fixture
async def api(runtime: Runtime, app: FastAPI) -> AsyncIterator[Api]:
    admin = runtime.local_admin
    assert admin is not None
    token = await runtime.users.create_key(admin, admin.name)
    async with serving(app) as live, httpx.AsyncClient(base_url=live.url, timeout=10) as http:
        yield Api(runtime, app, live, http, token)
