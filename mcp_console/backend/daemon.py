"""The headless daemon: one Runtime and its HTTP API under uvicorn, with its state files."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from pydantic import BaseModel, ValidationError

from mcp_console import __version__
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.errors import Conflict, Unauthorized, Unavailable
from mcp_console.settings import Settings

LOCK_ATTEMPTS = 20
LOCK_RETRY_SECONDS = 0.05


@dataclass(frozen=True)
class DaemonFiles:
    """Where a daemon keeps its state in the data dir."""

    data_dir: Path

    @property
    def pid(self) -> Path:
        """The pid file, locked for as long as the daemon runs."""
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
    """What ``daemon.json`` holds."""

    url: str
    pid: int
    version: str
    started_at: datetime


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
    """The pid of the daemon holding the pid file's lock, or ``None`` if none runs.

    The lock, not the pid, decides: it dies with the process, so a stale file left by a
    killed daemon (or a reused pid) never looks alive.
    """
    try:
        fd = os.open(files.pid, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_pid(fd) or -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read_pid(fd: int) -> int | None:
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


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
    """The pid file, exclusively locked: at most one daemon per data dir."""

    def __init__(self, files: DaemonFiles) -> None:
        self._files = files
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock and write our pid.

        Raises:
            Conflict: another daemon runs on this data dir.
        """
        fd = os.open(self._files.pid, os.O_RDWR | os.O_CREAT, 0o600)
        for _ in range(LOCK_ATTEMPTS):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                # A status probe holds a shared lock for a moment; a daemon holds it for good.
                time.sleep(LOCK_RETRY_SECONDS)
        else:
            pid = _read_pid(fd)
            os.close(fd)
            info = read_info(self._files)
            where = f" at {info.url}" if info else ""
            raise Conflict(
                f"a daemon is already running{where} (pid {pid or '?'}); "
                "stop it with 'mcp-console daemon stop'"
            )
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
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


@contextlib.contextmanager
def _graceful_signals() -> Iterator[None]:
    """Let SIGTERM/SIGINT end the server gracefully and then return normally.

    uvicorn stops on them and then re-raises the signal under the handler it found; with
    the default handlers that would kill the process before the state files are removed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def after_stop(signum: int, frame: FrameType | None) -> None:
        """The signal was handled by stopping the server: nothing more to do."""

    previous = {sig: signal.signal(sig, after_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


async def serve(settings: Settings, *, ready: Callable[[DaemonInfo], None] | None = None) -> None:
    """Run the daemon until SIGTERM or SIGINT: the Runtime and its API on this loop.

    Args:
        settings: the data dir, database, ``bind_host`` and ``api_port`` (0 picks a port).
        ready: called with the daemon's URL and pid once the API listens.

    Raises:
        Conflict: a daemon already runs on this data dir.
        Unavailable: the address cannot be bound.
    """
    # FastAPI and uvicorn load only here: every CLI command reads the daemon's state files.
    from mcp_console.backend.api import create_app
    from mcp_console.backend.api.server import ApiServer, bind_socket, url_of

    files = DaemonFiles(settings.data_dir)
    await asyncio.to_thread(settings.data_dir.mkdir, parents=True, exist_ok=True, mode=0o700)
    lock = PidLock(files)
    await asyncio.to_thread(lock.acquire)
    try:
        sock = await bind_socket(settings.bind_host, settings.api_port)
        with contextlib.closing(sock):
            async with Runtime(settings, background=True) as runtime:
                await ensure_admin_token(runtime, files)
                port = int(sock.getsockname()[1])
                server = ApiServer(create_app(runtime), settings.bind_host, port)
                info = DaemonInfo(
                    url=url_of(sock),
                    pid=os.getpid(),
                    version=__version__,
                    started_at=datetime.now(UTC),
                )
                await asyncio.to_thread(write_private, files.state, info.model_dump_json())
                try:
                    if ready is not None:
                        ready(info)
                    with _graceful_signals():
                        await server.serve(sockets=[sock])
                finally:
                    files.state.unlink(missing_ok=True)
    finally:
        lock.release()
