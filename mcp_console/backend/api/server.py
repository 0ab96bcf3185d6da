"""uvicorn for the API on the running loop: a socket bound up front, streams ended on stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Iterator

import uvicorn
from fastapi import FastAPI

from mcp_console.backend.api.factory import stop_streams
from mcp_console.schemas.errors import Unavailable

GRACEFUL_SHUTDOWN_SECONDS = 5
STARTUP_TIMEOUT_SECONDS = 10.0

logger = logging.getLogger(__name__)


async def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0 picks a free one).

    Raises:
        Unavailable: the address cannot be resolved or is in use.
    """
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise Unavailable(f"cannot resolve {host}: {error}", field="bind_host") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as error:
        sock.close()
        raise Unavailable(f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket) -> str:
    """The base URL clients use to reach a socket bound by ``bind_socket``."""
    host, port = sock.getsockname()[:2]
    # A wildcard bind is reached over loopback from this machine.
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


class ApiServer(uvicorn.Server):
    """uvicorn serving the API; stopping first ends the event streams, so it is quick.

    Signals are left to the process hosting it: the daemon stops on SIGTERM by itself, and
    the console must not lose its terminal's keys to a server's handlers.
    """

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        super().__init__(
            uvicorn.Config(
                app,
                host=host,
                port=port,
                lifespan="on",
                log_level="warning",
                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            )
        )
        self.api = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        stop_streams(self.api)
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    @contextlib.asynccontextmanager
    async def serving(self, sock: socket.socket) -> AsyncIterator[None]:
        """Serve on ``sock`` (bound by ``bind_socket``) in the background until the context ends.

        Raises:
            Unavailable: the server did not come up.
        """
        task = asyncio.create_task(self.serve(sockets=[sock]), name="api-server")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STARTUP_TIMEOUT_SECONDS
        while not self.started:
            if task.done() or loop.time() > deadline:
                await self._end(task)
                raise Unavailable("the API server did not start")
            await asyncio.sleep(0.01)
        try:
            yield
        finally:
            await self._end(task)

    async def _end(self, task: asyncio.Task[None]) -> None:
        self.should_exit = True
        # uvicorn waits for open connections up to its graceful timeout; a response that
        # ignores that is cancelled, never awaited forever: a backend must always stop.
        with contextlib.suppress(asyncio.CancelledError, Exception):
            async with asyncio.timeout(GRACEFUL_SHUTDOWN_SECONDS + 5):
                await asyncio.shield(task)
        if not task.done():
            logger.warning("the API server did not stop in time; cancelling it")
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
