"""The gateway under uvicorn on the backend's own loop (embedded console and daemon alike)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn

from mcp_console.backend.gateway.asgi import create_app
from mcp_console.backend.gateway.auth import Authenticate
from mcp_console.backend.gateway.core import Gateway, GatewayConfig
from mcp_console.backend.gateway.exchange import Settle
from mcp_console.backend.gateway.quota import QuotaCheck
from mcp_console.backend.gateway.records import Meter
from mcp_console.backend.gateway.routing import InstanceProvider
from mcp_console.schemas.errors import Unavailable
from mcp_console.settings import Settings

logger = logging.getLogger(__name__)

GRACEFUL_SHUTDOWN_SECONDS = 2
# Clients keep their connection between calls; uvicorn's 5 s default would reopen often.
KEEP_ALIVE_SECONDS = 60
STARTUP_TIMEOUT = 10.0


class _Uvicorn(uvicorn.Server):
    """uvicorn that leaves signals to the process hosting it (the console or the daemon)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def bind(host: str, port: int) -> socket.socket:
    """A listening, non-blocking TCP socket on ``host:port`` (port 0 picks one).

    Raises:
        Unavailable: the address cannot be used.
    """
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise Unavailable(f"cannot resolve {host}: {error}", field="bind_host") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as error:
        sock.close()
        raise Unavailable(
            f"the gateway cannot listen on {host}:{port}: {error.strerror}", field="gateway_port"
        ) from None
    sock.setblocking(False)
    return sock


def allowed_hosts(settings: Settings) -> tuple[str, ...]:
    """The Host patterns the gateway answers for: the settings' and the address it binds.

    A console bound to one address (``192.168.1.5``) is reached by that address; a
    wildcard bind (``0.0.0.0``) adds nothing, since any name could resolve to it.
    """
    patterns = list(settings.gateway.allowed_hosts)
    host = settings.bind_host.strip("[]")
    if host not in ("0.0.0.0", "::", ""):  # noqa: S104
        patterns.append(f"[{host}]:*" if ":" in host else f"{host}:*")
    return tuple(dict.fromkeys(patterns))


class GatewayServer:
    """Serves a ``Gateway`` over HTTP until stopped.

    Args:
        gateway: what to serve (started and closed with the server).
        host: where to listen; loopback by default, so nothing outside reaches it.
        port: the port (0 picks a free one; see ``url``).
    """

    def __init__(self, gateway: Gateway, host: str = "127.0.0.1", port: int = 0) -> None:
        self.gateway = gateway
        self.host = host
        self.port = port
        self._socket: socket.socket | None = None
        self._server: _Uvicorn | None = None
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        authenticate: Authenticate,
        config: GatewayConfig | None = None,
        *,
        meter: Meter | None = None,
        quota: QuotaCheck | None = None,
        instance_provider: InstanceProvider | None = None,
        settle: Settle | None = None,
    ) -> GatewayServer:
        """A server on ``settings.bind_host:settings.gateway_port`` with a new Gateway
        (answering for the hosts and origins ``settings.gateway`` allows, unless ``config``
        says otherwise)."""
        if config is None:
            config = GatewayConfig(
                allowed_hosts=allowed_hosts(settings),
                allowed_origins=tuple(settings.gateway.allowed_origins),
            )
        gateway = Gateway(
            authenticate,
            config=config,
            meter=meter,
            quota=quota,
            instance_provider=instance_provider,
            settle=settle,
        )
        return cls(gateway, settings.bind_host, settings.gateway_port)

    @property
    def url(self) -> str:
        """The base URL clients use (an endpoint is ``{url}/mcp/{owner}/{deployment}``)."""
        if self._socket is None:
            raise RuntimeError("the gateway server is not started")
        host, port = self._socket.getsockname()[:2]
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    async def start(self) -> str:
        """Bind, start serving, and return the base URL.

        Raises:
            Unavailable: the port is taken or the server did not come up.
        """
        self._socket = await bind(self.host, self.port)
        await self.gateway.start()
        config = uvicorn.Config(
            create_app(self.gateway),
            lifespan="off",
            log_level="warning",
            access_log=False,
            server_header=False,
            proxy_headers=False,
            ws="none",
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        self._server = _Uvicorn(config)
        self._task = asyncio.ensure_future(self._server.serve(sockets=[self._socket]))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STARTUP_TIMEOUT
        while not self._server.started:
            if self._task.done() or loop.time() > deadline:
                await self.stop()
                raise Unavailable("the gateway server did not start")
            await asyncio.sleep(0.01)
        return self.url

    async def stop(self) -> None:
        """Stop accepting, end sessions and streams, and release the port."""
        await self.gateway.aclose()
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            # uvicorn waits for open connections up to its graceful timeout; past that (a
            # response that ignores cancellation) the server task is cancelled, not awaited
            # forever: a backend must always be able to stop.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                async with asyncio.timeout(GRACEFUL_SHUTDOWN_SECONDS + 5):
                    await asyncio.shield(self._task)
            if not self._task.done():
                logger.warning("the gateway server did not stop in time; cancelling it")
                self._task.cancel()
            self._task = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
