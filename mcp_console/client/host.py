"""Reaching a data dir's one backend over its API: the daemon (started when asked) or the
console hosting it, found through the state files it keeps; or a daemon at a URL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from mcp_console.schemas.errors import Conflict, ConsoleError, Invalid, Unauthorized, Unavailable
from mcp_console.settings import Settings

# The HTTP client and the backend's state files load inside the functions that use them:
# the console draws its first frame without them.
if TYPE_CHECKING:
    from mcp_console.backend.daemon import DaemonFiles, DaemonInfo
    from mcp_console.client.remote import RemoteClient

DAEMON_HEALTH_TIMEOUT = 2.0
# How long a caller waits for a daemon or console that is still starting its backend.
HOST_START_TIMEOUT = 30.0
HOST_POLL_SECONDS = 0.2
# A daemon reached through a tunnel may be slow to answer, but not this slow.
REMOTE_CHECK_TIMEOUT = 10.0
START_TIMEOUT_SECONDS = 20.0
POLL_SECONDS = 0.1
HEALTH_TIMEOUT_SECONDS = 2.0
LOG_TAIL_LINES = 15


async def daemon_client(settings: Settings) -> RemoteClient | None:
    """A client of the backend hosted for this data dir, or ``None`` if nothing hosts it.

    The host is the daemon, or a console running its backend embedded: either way there is
    one backend per data dir, and commands go to it. One still starting is waited for. The
    client acts as ``MCP_CONSOLE_API_KEY``'s user when that is set, else as the local admin
    (whose key the host keeps in ``admin.token``). With ``MCP_CONSOLE_API_URL`` set, it is
    a client of the daemon there instead (a shared console on another machine).

    Raises:
        Unavailable: a process holds the data dir but its API does not answer, or no daemon
            answers at the URL.
        Unauthorized: the daemon at the URL refuses the API key.
    """
    if settings.api_url:
        return await remote_client(settings.api_url, settings.api_key)
    from mcp_console.backend.daemon import DaemonFiles, holder_of, read_token

    files = DaemonFiles(settings.data_dir)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HOST_START_TIMEOUT
    while True:
        holder = await asyncio.to_thread(holder_of, files)
        if holder is None:
            return None
        if holder.info is not None:
            # httpx loads only when a backend is there.
            from mcp_console.client.remote import RemoteClient

            token = settings.api_key or await asyncio.to_thread(read_token, files)
            client = RemoteClient(holder.info.url, token)
            try:
                async with asyncio.timeout(DAEMON_HEALTH_TIMEOUT):
                    await client.health()
                return client
            except (Unavailable, TimeoutError):
                await client.aclose()
        if loop.time() > deadline:
            raise Unavailable(
                f"{holder.describe()} holds {settings.data_dir} but does not answer; "
                "wait until it has started, or end it"
            )
        await asyncio.sleep(HOST_POLL_SECONDS)


async def hosted_client(
    settings: Settings, *, started: Callable[[DaemonInfo], None] | None = None
) -> RemoteClient:
    """A client of the data dir's backend, starting a daemon in the background if none runs.

    Args:
        settings: whose data dir (and API key, if set) to use.
        started: called with where the daemon listens when this call started one.

    Raises:
        Unavailable: the daemon did not start, or the backend does not answer.
    """
    client = await daemon_client(settings)
    if client is not None:
        return client
    try:
        info = await asyncio.to_thread(start_detached, settings, None, None)
    except Conflict:
        pass  # a console or a daemon took the data dir meanwhile: it serves just the same
    else:
        if started is not None:
            started(info)
    client = await daemon_client(settings)
    if client is None:
        raise Unavailable("the backend started for this data dir does not answer")
    return client


async def remote_client(url: str, token: str | None) -> RemoteClient:
    """A client of the daemon at ``url`` acting with ``token``, once both are known to work.

    Args:
        url: the daemon's base URL, e.g. ``http://127.0.0.1:8765`` (an SSH tunnel's end).
        token: the API key to act with.

    Raises:
        Invalid: ``url`` is not an http(s) URL.
        Unavailable: no daemon answers at ``url``.
        Unauthorized: the daemon refuses ``token``, or wants one and there is none.
    """
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(f"give the daemon's http:// or https:// URL, not {url!r}", field="--connect")
    from mcp_console.client.remote import RemoteClient

    client = RemoteClient(url, token)
    try:
        async with asyncio.timeout(REMOTE_CHECK_TIMEOUT):
            try:
                await client.health()
            except Unavailable:
                raise
            except ConsoleError as error:
                raise Unavailable(
                    f"{url} does not answer as an mcp-console daemon ({error.message})"
                ) from None
            try:
                await client.whoami()
            except Unauthorized as error:
                if not token:
                    raise Unauthorized(
                        f"the daemon at {url} wants an API key: give --token or set "
                        "MCP_CONSOLE_API_KEY"
                    ) from None
                raise Unauthorized(
                    f"the daemon at {url} refused the API key ({error.message})"
                ) from None
    except TimeoutError:
        await client.aclose()
        raise Unavailable(
            f"the daemon at {url} did not answer within {REMOTE_CHECK_TIMEOUT:g} s"
        ) from None
    except BaseException:
        await client.aclose()
        raise
    return client


def answers(url: str) -> bool:
    """Whether the daemon at ``url`` answers its health check (blocking)."""
    import httpx

    try:
        response = httpx.get(f"{url}/api/v1/health", timeout=HEALTH_TIMEOUT_SECONDS)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def _log_tail(files: DaemonFiles) -> str:
    try:
        lines = files.log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-LOG_TAIL_LINES:])


def start_detached(settings: Settings, host: str | None, port: int | None) -> DaemonInfo:
    """Start ``python -m mcp_console daemon`` in its own session and wait until it answers
    (blocking: call it in a thread from async code).

    Raises:
        Conflict: a daemon or a console already hosts the data dir.
        Unavailable: the daemon exited, or did not answer in time.
    """
    from mcp_console.backend.daemon import DaemonFiles, holder_of, read_info

    files = DaemonFiles(settings.data_dir)
    holder = holder_of(files)
    if holder is not None:
        raise Conflict(holder.busy())
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    env = {**os.environ, "MCP_CONSOLE_DATA_DIR": str(settings.data_dir)}
    if host is not None:
        env["MCP_CONSOLE_BIND_HOST"] = host
    if port is not None:
        env["MCP_CONSOLE_API_PORT"] = str(port)
    with files.log.open("ab") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "mcp_console", "daemon"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        status = child.poll()
        if status is not None:
            raise Unavailable(
                f"the daemon exited with status {status}; the end of {files.log}:\n"
                + _log_tail(files)
            )
        info = read_info(files)
        if info is not None and info.pid == child.pid and answers(info.url):
            return info
        time.sleep(POLL_SECONDS)
    child.terminate()
    raise Unavailable(
        f"the daemon did not answer within {START_TIMEOUT_SECONDS:.0f} s; see {files.log}"
    )
