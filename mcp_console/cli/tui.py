"""Starting the TUI: its first frame at once, then its backend (local), or a remote daemon's."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, cast

from textual import work

from mcp_console.app import ConsoleApp
from mcp_console.cli.context import acting_user
from mcp_console.cli.departure import Say, hand_over, left_running, running_work, stop_running
from mcp_console.cli.pending import PendingClient
from mcp_console.cli.startup import resume_collection
from mcp_console.client.host import daemon_client, remote_client
from mcp_console.client.protocol import ConsoleClient
from mcp_console.devtools.server_inspector import LocalInspector
from mcp_console.schemas.errors import Conflict, ConsoleError, Unavailable
from mcp_console.schemas.server_target import ServerTarget
from mcp_console.screens.modals.quit import QuitChoice, RunningWork
from mcp_console.settings import Settings

# The backend loads once the first frame is up.
if TYPE_CHECKING:
    from mcp_console.backend.daemon import Holder
    from mcp_console.backend.runtime import Runtime

logger = logging.getLogger(__name__)

STARTING = "starting the backend…"
# A console's API is for the commands on its own machine.
LOOPBACK = "127.0.0.1"
# Hosting the backend, or using the one that took the data dir first (once more, in a race).
HOST_ATTEMPTS = 2

# Imported on a thread, each import stalling the screen on the console's loop otherwise:
# what finds the data dir's backend; what joins one that a daemon or another console hosts;
# what hosts it up to its catalog (the runtime loads the rest itself, once the first
# screen's reads are answered).
FIND_MODULES = ("mcp_console.backend.daemon",)
JOIN_MODULES = ("mcp_console.client.remote",)
CATALOG_MODULES = ("mcp_console.backend.runtime", "mcp_console.client.local")


def preload(modules: tuple[str, ...]) -> None:
    """Import ``modules`` (blocking: run it on a thread)."""
    for name in modules:
        importlib.import_module(name)


class ConsoleBackend:
    """The console's backend, started once the first frame is up and stopped at the end.

    A data dir has one backend. When a daemon or another console hosts it, this console
    uses it. Otherwise this console hosts it: it claims the data dir as a daemon does, runs
    the runtime with its controller and gateway on the console's loop, and serves the HTTP
    API on loopback, so that commands on the same data dir reach it. What becomes of the
    deployments it runs when it quits is the departure given to ``aclose``.

    Args:
        settings: loaded once by the caller.
        say: where the console tells what it did on the way out (the terminal is back by
            then).
    """

    def __init__(self, settings: Settings, say: Say = print) -> None:
        self.settings = settings
        self.client = PendingClient()
        self._say = say
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._settled: Callable[[], Awaitable[None]] | None = None
        self._runtime: Runtime | None = None  # while this console hosts the backend
        self._departure: QuitChoice | None = None
        self.joined: Holder | None = None  # the daemon or console whose backend it uses
        self.error: ConsoleError | None = None  # why it could not start (or hand over)

    def start(self, settled: Callable[[], Awaitable[None]] | None = None) -> None:
        """Start the backend in the background (once).

        Args:
            settled: awaited once the first screen's reads have their answers, before the
                rest of a backend this console hosts starts (the screen draws them meanwhile).
        """
        self._settled = settled
        if self._task is None:
            self._task = asyncio.create_task(self._serve(), name="console-backend")

    async def running(self) -> RunningWork | None:
        """What runs on the backend this console hosts (``None``: it hosts none)."""
        if self._runtime is None:
            return None
        return await running_work(self._runtime)

    async def aclose(self, departure: QuitChoice | None = None) -> None:
        """Stop the backend and wait until it has released everything.

        Args:
            departure: what becomes of the deployments a hosted backend runs; without
                one they are left as they are, and the console says so.
        """
        self._departure = departure
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _serve(self) -> None:
        try:
            for _ in range(HOST_ATTEMPTS):
                # One trip to a thread: who hosts the data dir, and what comes next loaded.
                if await asyncio.to_thread(self._find):
                    if await self._join():
                        return
                    await asyncio.to_thread(preload, CATALOG_MODULES)
                if self._stop.is_set():
                    return
                try:
                    await self._host()
                    return
                except Conflict:
                    if self.client.ready:
                        raise
                    # Another console or a daemon claimed the data dir first: use theirs.
            raise Unavailable("the backend of this data dir changed hands while starting")
        except Exception as error:
            if self.client.ready and not isinstance(error, ConsoleError):
                logger.exception("the console's backend did not stop cleanly")
                return
            if not isinstance(error, ConsoleError):
                logger.exception("the console's backend did not start")
                reason = str(error) or type(error).__name__
                error = Unavailable(f"the backend did not start: {reason}")
            self.error = error
            self.client.fail(error)

    def _find(self) -> bool:
        """Whether a daemon or another console hosts the data dir, with what joins it loaded,
        or else what hosts it (blocking: run it on a thread)."""
        preload(FIND_MODULES)
        from mcp_console.backend.daemon import DaemonFiles, holder_of

        hosted = holder_of(DaemonFiles(self.settings.data_dir)) is not None
        # The HTTP client loads only when there is a backend to join.
        preload(JOIN_MODULES if hosted else CATALOG_MODULES)
        return hosted

    async def _join(self) -> bool:
        """Use the backend a daemon or another console hosts, if one still does."""
        from mcp_console.backend.daemon import DaemonFiles, holder_of

        remote = await daemon_client(self.settings)
        if remote is None:
            return False
        self.joined = await asyncio.to_thread(holder_of, DaemonFiles(self.settings.data_dir))
        async with remote:
            self.client.resolve(remote)
            await self._stop.wait()
        return True

    async def _host(self) -> None:
        """Host the data dir's backend until the console quits, then see to its deployments."""
        from mcp_console.backend.daemon import HostKind, hosting
        from mcp_console.client.local import LocalClient

        local: LocalClient | None = None

        async def catalog_ready(runtime: Runtime) -> None:
            nonlocal local
            local = LocalClient(runtime, await acting_user(runtime, self.settings))
            self.client.resolve_reads(local)
            # The rest of the backend loads and starts once the first screen has its
            # answers: until then it would take turns with them on the loop and the GIL.
            # (A console that ends meanwhile draws nothing more: it is not waited for.)
            await _unless(self._stop, self.client.first_reads_answered())
            if self._settled is not None:
                await _unless(self._stop, self._settled())

        async with hosting(
            self.settings,
            HostKind.CONSOLE,
            host=LOOPBACK,
            port=self.settings.api_port,
            any_port=True,
            catalog_ready=catalog_ready,
        ) as hosted:
            runtime = hosted.runtime
            assert local is not None  # the runtime called catalog_ready on its way up
            self.client.resolve(local)
            self._runtime = runtime
            try:
                await self._stop.wait()
                work = await running_work(runtime)
                if work.deployments and self._departure is QuitChoice.STOP:
                    await stop_running(runtime, self._say)
            finally:
                self._runtime = None
        # The data dir, the API and the gateway's port are free again.
        if not work.deployments or self._departure is QuitChoice.STOP:
            return
        if self._departure is QuitChoice.HAND_OVER:
            await hand_over(self.settings, work, self._say)
        else:
            self._say(left_running(work))


async def _unless(stop: asyncio.Event, awaited: Awaitable[None]) -> None:
    """Wait for ``awaited``, or until ``stop`` is set if that comes first."""
    waited, stopped = asyncio.ensure_future(awaited), asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((waited, stopped), return_when=asyncio.FIRST_COMPLETED)
    finally:
        waited.cancel()
        stopped.cancel()
    if waited.done() and not waited.cancelled():
        waited.result()  # its error, if it failed


class StartingConsole(ConsoleApp):
    """The console on a backend that starts once the first frame is on the screen."""

    def __init__(self, backend: ConsoleBackend, inspect: ServerTarget | None = None) -> None:
        # PendingClient answers every operation of the protocol, by delegation.
        # Sessions with a URL or a command run here, as the user: never on a backend.
        super().__init__(
            cast(ConsoleClient, backend.client),
            running=backend.running,
            inspector=LocalInspector(),
            inspect=inspect,
        )
        self.backend = backend
        self.sub_title = STARTING  # until the signed-in user replaces it

    def on_ready(self) -> None:
        """The first frame is drawn: now the backend may take its time."""
        self.backend.start(settled=self.refreshed)
        self.leave_without_backend()

    async def refreshed(self) -> None:
        """Return once the screen has drawn what it holds now (its first results)."""
        drawn = asyncio.Event()
        self.call_after_refresh(drawn.set)
        await drawn.wait()
        resume_collection()

    @work(group="console-backend", exit_on_error=False)
    async def leave_without_backend(self) -> None:
        """End the console if its backend cannot start: nothing in it would work."""
        try:
            await self.backend.client.client()
        except ConsoleError:
            self.exit(return_code=1)
            return
        finally:
            # The backend is up (or failed) without a first screen of its own: one joined,
            # or one that ended before its first results.
            resume_collection()
        from mcp_console.backend.daemon import HostKind  # loaded with the backend

        joined = self.backend.joined
        if joined is not None and joined.kind is HostKind.CONSOLE:
            self.notify(
                f"The console running as pid {joined.pid} hosts this data dir's backend; "
                "this one uses it, and stops working when that one quits.",
                title="Sharing a backend",
                timeout=10,
            )


async def run_console(settings: Settings, inspect: ServerTarget | None = None) -> None:
    """Run the console on the backend of this data dir: the one a daemon or another console
    hosts, or else its own, embedded on the app's event loop with its controller running so
    that what the console deploys converges while it is open, and its API served so that
    commands on the same data dir reach it. Either starts after the first frame. With
    ``inspect``, the inspector opens on that server at once.

    Raises:
        ConsoleError: the backend could not start (the console ends when it knows), or the
            deployments could not be handed to a daemon on the way out.
    """
    backend = ConsoleBackend(settings)
    app = StartingConsole(backend, inspect)
    try:
        await app.run_async()
    finally:
        await backend.aclose(app.quit_choice)
    if backend.error is not None:
        raise backend.error  # said on stderr once the terminal is back


async def run_remote_console(
    url: str, token: str | None, inspect: ServerTarget | None = None
) -> None:
    """Run the console on the daemon at ``url``, acting with ``token`` (the inspector open on
    ``inspect`` at once, if given; its session runs here, not on the daemon).

    Both are checked before the console takes the terminal, so a wrong URL or key is
    reported on stderr.

    Raises:
        Invalid: ``url`` is not an http(s) URL.
        Unavailable: no daemon answers at ``url``.
        Unauthorized: the daemon refuses ``token``.
    """
    async with await remote_client(url, token) as client:
        await ConsoleApp(client, inspector=LocalInspector(), inspect=inspect).run_async()
