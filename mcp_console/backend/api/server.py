"""uvicorn for the API on the running loop: a socket bound up front, streams ended on stop."""

from __future__ import annotations

import asyncio
import socket

import uvicorn
from fastapi import FastAPI

from mcp_console.backend.api.app import stop_streams
from mcp_console.schemas.errors import Unavailable

GRACEFUL_SHUTDOWN_SECONDS = 5


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
    """uvicorn serving the API; stopping first ends the event streams, so it is quick."""

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
