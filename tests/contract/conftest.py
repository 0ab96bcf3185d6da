"""The contract's fixture: the same ConsoleClient assertions over LocalClient, RemoteClient, the
SDK's AsyncConsole and Console, and the TUI's FakeClient, so the fake the console's tests run
on keeps the backend's rules."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

import pytest
import pytest_asyncio

from mcp_console.backend.api import create_app
from mcp_console.backend.runtime import Runtime
from mcp_console.client.local import LocalClient
from mcp_console.client.protocol import ConsoleClient
from mcp_console.client.remote import RemoteClient
from mcp_console.schemas.users import Role, UserCreate
from mcp_console.sdk import AsyncConsole, Console
from tests.api.live import serving
from tests.contract.blocking_client import BlockingAsAsync
from tests.fakes import FakeClient

# Over the API: the remote client, the SDK's AsyncConsole built on it and its blocking Console.
API_TRANSPORTS = ("remote", "sdk-async")
BLOCKING = "sdk-sync"
TRANSPORTS = ("local", *API_TRANSPORTS, BLOCKING, "fake")
# A test of behaviour FakeClient does not model says why; it then runs over the real clients
# only (it is not generated for the fake at all, so nothing is skipped).
NOT_MODELLED = "not_modelled_by_fake"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{NOT_MODELLED}(reason): a contract test FakeClient does not run (why)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "clients" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker(NOT_MODELLED)
    if marker is not None and not (marker.args and str(marker.args[0]).strip()):
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: say what the fake does not model")
    transports = [t for t in TRANSPORTS if marker is None or t != "fake"]
    metafunc.parametrize("clients", transports, indirect=True)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The contract is about transports, not databases: SQLite keeps it quick."""
    return sqlite_url


class Clients:
    """Clients of one backend over one transport, each acting as some user."""

    transport: str

    async def connect(self, api_key: str) -> ConsoleClient:
        """A client acting as the owner of ``api_key``."""
        raise NotImplementedError

    async def new_user(self, name: str, role: Role) -> str:
        """A new user; returns their API key."""
        raise NotImplementedError

    async def user(self, name: str, role: Role) -> ConsoleClient:
        """A new user and a client acting as them."""
        return await self.connect(await self.new_user(name, role))

    async def admin(self) -> ConsoleClient:
        """A client acting as the local admin."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Close what the clients hold open."""


class BackendClients(Clients):
    """Clients of a real backend: embedded (``url`` is None) or through its API."""

    def __init__(self, runtime: Runtime, url: str | None, transport: str | None = None) -> None:
        self.runtime = runtime
        self.url = url
        self.transport = transport or ("local" if url is None else "remote")
        self._remotes: list[RemoteClient] = []
        self._consoles: list[Console] = []

    async def connect(self, api_key: str) -> ConsoleClient:
        if self.url is None:
            return LocalClient(self.runtime, await self.runtime.users.authenticate(api_key))
        if self.transport == "sdk-sync":
            console = await asyncio.to_thread(Console, self.url, api_key)
            self._consoles.append(console)
            return cast(ConsoleClient, BlockingAsAsync(console))
        remote = (AsyncConsole if self.transport == "sdk-async" else RemoteClient)(
            self.url, api_key
        )
        self._remotes.append(remote)
        return remote

    async def new_user(self, name: str, role: Role) -> str:
        created = await self.runtime.users.create_user(None, UserCreate(name=name, role=role))
        return created.api_key

    async def admin(self) -> ConsoleClient:
        admin = self.runtime.local_admin
        assert admin is not None
        return await self.connect(await self.runtime.users.create_key(admin, admin.name))

    async def aclose(self) -> None:
        for remote in self._remotes:
            await remote.aclose()
        for console in self._consoles:
            await asyncio.to_thread(console.close)


class FakeClients(Clients):
    """Clients of one FakeClient's world, each acting as some user."""

    transport = "fake"

    def __init__(self) -> None:
        self.fake = FakeClient()

    async def connect(self, api_key: str) -> ConsoleClient:
        return self.fake.acting_as(self.fake.authenticate(api_key))

    async def new_user(self, name: str, role: Role) -> str:
        return self.fake.users.create(self.fake.me, UserCreate(name=name, role=role)).api_key

    async def admin(self) -> ConsoleClient:
        return await self.connect(self.fake.users.key_for(self.fake.me.name))


@pytest_asyncio.fixture
async def clients(request: pytest.FixtureRequest, runtime: Runtime) -> AsyncIterator[Clients]:
    """Clients over the embedded backend, over its API on a real loopback socket, and over
    the TUI's fake (parametrized by ``pytest_generate_tests``)."""
    if request.param == "fake":
        yield FakeClients()
        return
    async with backend_clients(runtime, request.param) as clients:
        yield clients


@asynccontextmanager
async def backend_clients(runtime: Runtime, transport: str) -> AsyncIterator[BackendClients]:
    """Clients of ``runtime`` over ``transport``: embedded, or through its API served live."""
    if transport == "local":
        yield BackendClients(runtime, None)
        return
    async with serving(create_app(runtime)) as live:
        clients = BackendClients(runtime, live.url, transport)
        try:
            yield clients
        finally:
            await clients.aclose()
