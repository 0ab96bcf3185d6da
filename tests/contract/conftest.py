"""The contract's fixture: the same ConsoleClient assertions over LocalClient and RemoteClient."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from mcp_console.backend.api import create_app
from mcp_console.backend.runtime import Runtime
from mcp_console.client.local import LocalClient
from mcp_console.client.protocol import ConsoleClient
from mcp_console.client.remote import RemoteClient
from mcp_console.schemas.users import Role, UserCreate
from tests.api.live import serving


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The contract is about transports, not databases: SQLite keeps it quick."""
    return sqlite_url


class Clients:
    """Clients of one backend over one transport, each acting as some user."""

    def __init__(self, runtime: Runtime, url: str | None) -> None:
        self.runtime = runtime
        self.url = url
        self._remotes: list[RemoteClient] = []

    @property
    def transport(self) -> str:
        return "local" if self.url is None else "remote"

    async def connect(self, api_key: str) -> ConsoleClient:
        """A client acting as the owner of ``api_key``."""
        if self.url is None:
            return LocalClient(self.runtime, await self.runtime.users.authenticate(api_key))
        remote = RemoteClient(self.url, api_key)
        self._remotes.append(remote)
        return remote

    async def user(self, name: str, role: Role) -> ConsoleClient:
        """A new user and a client acting as them."""
        created = await self.runtime.users.create_user(None, UserCreate(name=name, role=role))
        return await self.connect(created.api_key)

    async def admin(self) -> ConsoleClient:
        """A client acting as the local admin."""
        admin = self.runtime.local_admin
        assert admin is not None
        return await self.connect(await self.runtime.users.create_key(admin, admin.name))

    async def aclose(self) -> None:
        for remote in self._remotes:
            await remote.aclose()


@pytest_asyncio.fixture(params=["local", "remote"])
async def clients(request: pytest.FixtureRequest, runtime: Runtime) -> AsyncIterator[Clients]:
    """Clients over the embedded backend, then over its API on a real loopback socket."""
    if request.param == "local":
        yield Clients(runtime, None)
        return
    async with serving(create_app(runtime)) as live:
        clients = Clients(runtime, live.url)
        try:
            yield clients
        finally:
            await clients.aclose()
