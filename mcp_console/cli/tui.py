"""Starting the TUI: its first frame at once, then its backend (local), or a remote daemon's."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from textual import work

from mcp_console.app import ConsoleApp
from mcp_console.cli.context import acting_user, daemon_client, remote_client
from mcp_console.client.protocol import ConsoleClient
from mcp_console.schemas.errors import ConsoleError, Unavailable
from mcp_console.settings import Settings

logger = logging.getLogger(__name__)

STARTING = "starting the backend…"

# Every operation of the protocol, and whether it is a coroutine (``events`` is the one that
# is not: it opens a stream as an async context manager).
_OPERATIONS: dict[str, bool] = {
    name: inspect.iscoroutinefunction(member)
    for name, member in vars(ConsoleClient).items()
    if not name.startswith("_") and callable(member)
}

# What finding a daemon, and the embedded backend as it starts (its gateway, scheduler and
# the MCP SDK its health checks use), would otherwise import on the console's loop, each
# import stalling the screen: they are imported on a thread first.
DAEMON_MODULES = ("mcp_console.backend.daemon", "mcp_console.client.remote")
EMBEDDED_MODULES = (
    "mcp_console.backend.runtime",
    "mcp_console.client.local",
    "apscheduler.schedulers.asyncio",
    "mcp_console.backend.bridge.route_feed",
    "mcp_console.backend.gateway.metering",
    "mcp_console.backend.bridge.mux_probe",
    "mcp_console.backend.gateway.server",
    "mcp",
)


def preload(modules: tuple[str, ...]) -> None:
    """Import ``modules`` (blocking: run it on a thread)."""
    for name in modules:
        importlib.import_module(name)


class PendingClient:
    """A ConsoleClient whose calls wait until the backend behind it is ready.

    The console draws its first frame on it; the screens' first calls wait while the backend
    starts, later ones go straight to the real client. If the backend cannot start, every
    call raises why (``Unavailable`` unless it was another domain error).
    """

    def __init__(self) -> None:
        self._ready: asyncio.Future[ConsoleClient] = asyncio.get_running_loop().create_future()

    @property
    def ready(self) -> bool:
        """Whether a backend answers the calls now."""
        return self._ready.done() and self._ready.exception() is None

    def resolve(self, client: ConsoleClient) -> None:
        """Hand every waiting and later call to ``client``."""
        if not self._ready.done():
            self._ready.set_result(client)

    def fail(self, error: ConsoleError) -> None:
        """Make every waiting and later call raise ``error``."""
        if not self._ready.done():
            self._ready.set_exception(error)

    async def client(self) -> ConsoleClient:
        """The real client, once there is one."""
        # Shielded: a cancelled caller (an exclusive worker replaced) must not cancel the
        # future every other caller waits on.
        return await asyncio.shield(self._ready)

    def __getattr__(self, name: str) -> Any:
        if name not in _OPERATIONS:
            raise AttributeError(name)
        if self.ready:
            return getattr(self._ready.result(), name)
        if _OPERATIONS[name]:

            async def call(*args: Any, **kwargs: Any) -> Any:
                client = await self.client()
                return await getattr(client, name)(*args, **kwargs)

            return call

        @asynccontextmanager
        async def stream(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            client = await self.client()
            async with getattr(client, name)(*args, **kwargs) as opened:
                yield opened

        return stream


class ConsoleBackend:
    """The console's backend, started once the first frame is up and stopped at the end.

    A daemon serving the data dir is used when one answers; otherwise an embedded runtime
    runs on the console's loop, with its controller and gateway, until the console quits.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client = PendingClient()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.error: ConsoleError | None = None  # why it could not start

    def start(self) -> None:
        """Start the backend in the background (once)."""
        if self._task is None:
            self._task = asyncio.create_task(self._serve(), name="console-backend")

    async def aclose(self) -> None:
        """Stop the backend and wait until it has released everything."""
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _serve(self) -> None:
        try:
            await asyncio.to_thread(preload, DAEMON_MODULES)
            remote = await daemon_client(self.settings)
            if remote is not None:
                async with remote:
                    self.client.resolve(remote)
                    await self._stop.wait()
                return
            await asyncio.to_thread(preload, EMBEDDED_MODULES)
            if self._stop.is_set():
                return
            from mcp_console.backend.daemon import DaemonFiles, ensure_admin_token
            from mcp_console.backend.runtime import Runtime
            from mcp_console.client.local import LocalClient

            async with Runtime(self.settings, background=True) as runtime:
                actor = await acting_user(runtime, self.settings)
                if self.settings.api_key is None:
                    # As with the daemon: `mcp-console connect` gives MCP clients this key
                    # for the gateway the console serves.
                    await ensure_admin_token(runtime, DaemonFiles(self.settings.data_dir))
                self.client.resolve(LocalClient(runtime, actor))
                await self._stop.wait()
        except Exception as error:
            if self.client.ready:  # it served, and failed on the way out
                logger.exception("the console's backend did not stop cleanly")
                return
            if not isinstance(error, ConsoleError):
                logger.exception("the console's backend did not start")
                reason = str(error) or type(error).__name__
                error = Unavailable(f"the backend did not start: {reason}")
            self.error = error
            self.client.fail(error)


class StartingConsole(ConsoleApp):
    """The console on a backend that starts once the first frame is on the screen."""

    def __init__(self, backend: ConsoleBackend) -> None:
        # PendingClient answers every operation of the protocol, by delegation.
        super().__init__(cast(ConsoleClient, backend.client))
        self.backend = backend
        self.sub_title = STARTING  # until the signed-in user replaces it

    def on_ready(self) -> None:
        """The first frame is drawn: now the backend may take its time."""
        self.backend.start()
        self.leave_without_backend()

    @work(group="console-backend", exit_on_error=False)
    async def leave_without_backend(self) -> None:
        """End the console if its backend cannot start: nothing in it would work."""
        try:
            await self.backend.client.client()
        except ConsoleError:
            self.exit(return_code=1)


async def run_console(settings: Settings) -> None:
    """Run the console on the daemon serving this data dir when one answers; otherwise on an
    embedded backend sharing the app's event loop, with its controller running so that what
    the console deploys converges while it is open. Either starts after the first frame.

    Raises:
        ConsoleError: the backend could not start (the console ends when it knows).
    """
    backend = ConsoleBackend(settings)
    try:
        await StartingConsole(backend).run_async()
    finally:
        await backend.aclose()
    if backend.error is not None:
        raise backend.error  # said on stderr once the terminal is back


async def run_remote_console(url: str, token: str | None) -> None:
    """Run the console on the daemon at ``url``, acting with ``token``.

    Both are checked before the console takes the terminal, so a wrong URL or key is
    reported on stderr.

    Raises:
        Invalid: ``url`` is not an http(s) URL.
        Unavailable: no daemon answers at ``url``.
        Unauthorized: the daemon refuses ``token``.
    """
    async with await remote_client(url, token) as client:
        await ConsoleApp(client).run_async()
