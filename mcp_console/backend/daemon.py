"""Hosting a data dir's one backend (the headless daemon, or an open console): its Runtime,
its HTTP API under uvicorn, and the state files that let every command find it."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import gc
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ValidationError

from mcp_console import __version__
from mcp_console.schemas.errors import Conflict, Unauthorized, Unavailable
from mcp_console.settings import Settings

# The runtime loads only where a backend is hosted: every command reads the state files,
# and a console claims the data dir before the database and the catalog load.
if TYPE_CHECKING:
    from mcp_console.backend.runtime import CatalogReady, Runtime

LOCK_ATTEMPTS = 20
LOCK_RETRY_SECONDS = 0.05
# FastAPI and uvicorn load only where a backend is hosted: every CLI command reads the state
# files, and a console loads them once its first page of results is on the screen.
API_MODULES = ("mcp_console.backend.api", "mcp_console.backend.api.server")


class HostKind(StrEnum):
    """What hosts a data dir's backend."""

    DAEMON = "daemon"
    CONSOLE = "console"


@dataclass(frozen=True)
class DaemonFiles:
    """Where a daemon keeps its state in the data dir."""

    data_dir: Path

    @property
    def pid(self) -> Path:
        """The pid file (the pid, then the host's kind), locked for as long as it runs."""
        return self.data_dir / "daemon.pid"

    @property
    def state(self) -> Path:
        """``daemon.json``: the URL and pid, written once the API listens."""
        return self.data_dir / "daemon.json"

    @property
    def token(self) -> Path:
        """The local admin's API key (mode 0600)."""
        return self.data_dir / "admin.token"

    @property
    def log(self) -> Path:
        """Where a detached daemon's output goes."""
        return self.data_dir / "daemon.log"


class DaemonInfo(BaseModel):
    """What ``daemon.json`` holds: where the backend of the data dir answers."""

    url: str
    pid: int
    version: str
    started_at: datetime
    kind: HostKind = HostKind.DAEMON


def read_info(files: DaemonFiles) -> DaemonInfo | None:
    """The state a daemon wrote, or ``None`` if there is none (or it is unreadable)."""
    try:
        return DaemonInfo.model_validate_json(files.state.read_bytes())
    except (OSError, ValidationError):
        return None


def read_token(files: DaemonFiles) -> str | None:
    """The local admin's token written by the daemon, if any."""
    try:
        return files.token.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def running_pid(files: DaemonFiles) -> int | None:
    """The pid of the process holding the pid file's lock, or ``None`` if none runs."""
    holder = holder_of(files)
    return None if holder is None else holder.pid


@dataclass(frozen=True)
class Holder:
    """The process hosting a data dir's backend, and where it answers once it does."""

    pid: int  # -1 when the pid file cannot be read
    kind: HostKind
    info: DaemonInfo | None  # None while it starts (or if it wrote none)

    def describe(self) -> str:
        """``the console (pid 12) at http://127.0.0.1:8765``, for messages."""
        what = "the console" if self.kind is HostKind.CONSOLE else "a daemon"
        return f"{what} (pid {self._pid}){self._where}"

    def busy(self) -> str:
        """Why nothing else may host the data dir, and what to do about it."""
        if self.kind is HostKind.CONSOLE:
            return (
                f"{self.describe()} runs the backend of this data dir; quit it first "
                "(it offers to hand its deployments to a daemon)"
            )
        return (
            f"a daemon is already running{self._where} (pid {self._pid}); "
            "stop it with 'mcp-console daemon stop'"
        )

    @property
    def _pid(self) -> str:
        return str(self.pid) if self.pid > 0 else "?"

    @property
    def _where(self) -> str:
        return f" at {self.info.url}" if self.info is not None else ""


def holder_of(files: DaemonFiles) -> Holder | None:
    """Who holds the data dir's lock, or ``None`` if no process does.

    The lock, not the pid, decides: it dies with the process, so a stale file left by a
    killed daemon or console (or a reused pid) never looks alive.
    """
    try:
        fd = os.open(files.pid, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pid, kind = _read_holder(fd)
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
    finally:
        os.close(fd)
    return _holding(files, pid, kind)


def _holding(files: DaemonFiles, pid: int | None, kind: HostKind) -> Holder:
    info = read_info(files)
    # A state file left by an earlier process (killed before it could remove it) is not its.
    return Holder(pid or -1, kind, info if info is not None and info.pid == pid else None)


def _read_holder(fd: int) -> tuple[int | None, HostKind]:
    words = os.pread(fd, 64, 0).decode("ascii", "replace").split()
    pid = int(words[0]) if words and words[0].isdigit() else None
    # A pid file of an older daemon names no kind.
    kind = HostKind.CONSOLE if words[1:2] == [HostKind.CONSOLE.value] else HostKind.DAEMON
    return pid, kind


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text``, readable by its owner only (0600)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)
    os.replace(temporary, path)


class PidLock:
    """The pid file, exclusively locked: at most one backend host per data dir."""

    def __init__(self, files: DaemonFiles, kind: HostKind = HostKind.DAEMON) -> None:
        self._files = files
        self._kind = kind
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock and write our pid and kind.

        Raises:
            Conflict: a daemon or a console already hosts this data dir.
        """
        fd = os.open(self._files.pid, os.O_RDWR | os.O_CREAT, 0o600)
        for _ in range(LOCK_ATTEMPTS):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                # A status probe holds a shared lock for a moment; a host holds it for good.
                time.sleep(LOCK_RETRY_SECONDS)
        else:
            pid, kind = _read_holder(fd)
            os.close(fd)
            raise Conflict(_holding(self._files, pid, kind).busy())
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n{self._kind.value}\n".encode("ascii"), 0)
        self._fd = fd

    def release(self) -> None:
        """Remove the pid file, then let go of the lock."""
        if self._fd is None:
            return
        self._files.pid.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None


async def ensure_admin_token(runtime: Runtime, files: DaemonFiles) -> str:
    """The local admin's API key, stored in ``admin.token`` (0600).

    The stored key is kept while it still works; otherwise (first start, deleted file,
    revoked key) a fresh one is minted, since keys are stored hashed and cannot be recovered.
    """
    admin = runtime.local_admin
    if admin is None:
        raise Unavailable("the backend has no local admin")
    stored = await asyncio.to_thread(read_token, files)
    token: str | None = None
    for candidate in (stored, runtime.local_admin_new_key):
        if not candidate:
            continue
        try:
            if (await runtime.users.authenticate(candidate)).user_id == admin.user_id:
                token = candidate
                break
        except Unauthorized:
            continue
    if token is None:
        token = await runtime.users.create_key(admin, admin.name, label="daemon")
    await asyncio.to_thread(write_private, files.token, token + "\n")
    return token


@dataclass(frozen=True)
class Hosted:
    """A backend being hosted: its runtime and where its API answers."""

    runtime: Runtime
    info: DaemonInfo


@contextlib.asynccontextmanager
async def hosting(
    settings: Settings,
    kind: HostKind,
    *,
    host: str,
    port: int,
    any_port: bool = False,
    catalog_ready: CatalogReady | None = None,
) -> AsyncIterator[Hosted]:
    """Host the data dir's backend for as long as the context lasts.

    It claims the data dir (the pid file's lock) before anything else, starts the Runtime,
    binds the API's address, starts the controller and the gateway, keeps the local admin's
    key in ``admin.token``, serves the API on ``host:port`` and writes ``daemon.json``, so
    every command on this data dir finds it.

    Args:
        settings: the data dir, database and gateway.
        kind: what hosts it (written down for the messages of those it turns away).
        host: the API's address.
        port: the API's port (0 picks a free one).
        any_port: take a free port when ``port`` is in use (a console's API is found
            through ``daemon.json``, never by its port).
        catalog_ready: given to the Runtime: awaited once the catalog answers, before the
            rest starts (a console shows its first results meanwhile).

    Raises:
        Conflict: a daemon or a console already hosts this data dir.
        Unavailable: the address cannot be bound.
    """
    from mcp_console.backend.runtime import Runtime, import_modules

    files = DaemonFiles(settings.data_dir)
    await asyncio.to_thread(settings.data_dir.mkdir, parents=True, exist_ok=True, mode=0o700)
    lock = PidLock(files, kind)
    await asyncio.to_thread(lock.acquire)
    try:
        async with Runtime(settings, catalog_ready=catalog_ready) as runtime:
            await import_modules(API_MODULES)
            from mcp_console.backend.api import create_app
            from mcp_console.backend.api.server import ApiServer, bind_socket, url_of

            # Bound before the controller starts: a busy address ends the start there.
            try:
                sock = await bind_socket(host, port)
            except Unavailable:
                if not any_port or port == 0:
                    raise
                sock = await bind_socket(host, 0)
            with contextlib.closing(sock):
                await runtime.start_background()
                await ensure_admin_token(runtime, files)
                server = ApiServer(create_app(runtime), host, int(sock.getsockname()[1]))
                async with server.serving(sock):
                    info = DaemonInfo(
                        url=url_of(sock),
                        pid=os.getpid(),
                        version=__version__,
                        started_at=datetime.now(UTC),
                        kind=kind,
                    )
                    await asyncio.to_thread(write_private, files.state, info.model_dump_json())
                    try:
                        yield Hosted(runtime, info)
                    finally:
                        files.state.unlink(missing_ok=True)
    finally:
        lock.release()


async def _until_signalled() -> None:
    """Wait for SIGTERM or SIGINT (forever, off the main thread, where none arrive)."""
    stop = asyncio.Event()
    if threading.current_thread() is not threading.main_thread():
        await stop.wait()
        return
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


async def serve(settings: Settings, *, ready: Callable[[DaemonInfo], None] | None = None) -> None:
    """Run the daemon until SIGTERM or SIGINT: the Runtime and its API on this loop.

    Args:
        settings: the data dir, database, ``bind_host`` and ``api_port`` (0 picks a port).
        ready: called with the daemon's URL and pid once the API listens.

    Raises:
        Conflict: a daemon or a console already hosts this data dir.
        Unavailable: the address cannot be bound.
    """
    async with hosting(
        settings, HostKind.DAEMON, host=settings.bind_host, port=settings.api_port
    ) as hosted:
        freeze_startup_heap()
        if ready is not None:
            ready(hosted.info)
        await _until_signalled()


def freeze_startup_heap() -> None:
    """Keep the objects made while starting out of every later garbage collection.

    What a started backend holds (modules, the ORM's and the API's tables, caches) lives
    as long as the process, yet each full collection walked all of it again: about 20 µs
    of CPU per gateway call under load. Collected first, so no garbage is kept; called
    once, by the process that serves until it ends (frozen objects that later become
    cyclic garbage are never reclaimed).
    """
    gc.collect()
    gc.freeze()
