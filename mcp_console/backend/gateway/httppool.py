"""UpstreamPool: keep-alive connections to the gateway's upstreams, reused LIFO."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time

from mcp_console.backend.gateway.httpclient import UpstreamConnection, UpstreamError

DEFAULT_IDLE_EXPIRY = 4.0  # below uvicorn's 5 s keep-alive, so we never race its close
DEFAULT_CONNECT_TIMEOUT = 5.0

# (host, port, tls): one pool of connections per upstream and scheme.
Target = tuple[str, int, bool]


class UpstreamPool:
    """Keep-alive connections per upstream ``(host, port, tls)``, most recently used first.

    The console's own instances are plain http on loopback; only remote deployments'
    servers are reached over TLS, verified against the system's certificate authorities
    (``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` are honoured).

    Args:
        idle_expiry: seconds an idle connection is trusted; older ones are closed rather
            than reused, so a request never races the server's own keep-alive close.
        max_idle: idle connections kept per upstream.
        connect_timeout: seconds to establish a connection.
    """

    def __init__(
        self,
        *,
        idle_expiry: float = DEFAULT_IDLE_EXPIRY,
        max_idle: int = 256,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    ) -> None:
        self.idle_expiry = idle_expiry
        self.max_idle = max_idle
        self.connect_timeout = connect_timeout
        self._idle: dict[Target, list[UpstreamConnection]] = {}
        self._all: set[UpstreamConnection] = set()
        self._tls: ssl.SSLContext | None = None

    async def request(
        self, host: str, port: int, data: bytes, *, tls: bool = False
    ) -> UpstreamConnection:
        """Send a request (``data`` is the whole of it) and return once its head is in.

        Raises:
            UpstreamError: with ``sent=False`` when no connection could be made.
        """
        conn = self._take_idle((host, port, tls))
        if conn is None:
            conn = await self._connect(host, port, tls)
        try:
            await conn.send(data)
        except BaseException:
            conn.abort()
            raise
        return conn

    def _take_idle(self, key: Target) -> UpstreamConnection | None:
        stack = self._idle.get(key)
        if not stack:
            return None
        now = time.monotonic()
        while stack:
            conn = stack.pop()
            if conn.reusable and now - conn.idle_since < self.idle_expiry:
                conn.reused = True
                return conn
            conn.abort()
        return None

    async def _connect(self, host: str, port: int, tls: bool) -> UpstreamConnection:
        loop = asyncio.get_running_loop()
        key = (host, port, tls)
        context = await self._tls_context() if tls else None
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, conn = await loop.create_connection(
                    lambda: UpstreamConnection(self, key),
                    host,
                    port,
                    ssl=context,
                    server_hostname=host if tls else None,
                )
        except (OSError, TimeoutError) as exc:
            # An ssl.SSLError (a certificate that does not verify) is an OSError too.
            reason = "timed out" if isinstance(exc, TimeoutError) else exc.strerror or str(exc)
            raise UpstreamError(
                f"cannot connect to {host}:{port}: {reason}", sent=False, received=False
            ) from None
        self._all.add(conn)
        return conn

    async def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            # Loading the certificate authorities reads files: off the loop, once.
            context = await asyncio.to_thread(ssl.create_default_context)
            context.set_alpn_protocols(["http/1.1"])  # the only HTTP this client speaks
            self._tls = context
        return self._tls

    def put_idle(self, conn: UpstreamConnection) -> None:
        """Keep a connection whose response has been read in full."""
        stack = self._idle.setdefault(conn.key, [])
        if len(stack) >= self.max_idle:
            conn.abort()
            return
        conn.idle_since = time.monotonic()
        stack.append(conn)

    def forget(self, conn: UpstreamConnection) -> None:
        """A connection has closed: drop it from the idle stacks."""
        self._all.discard(conn)
        stack = self._idle.get(conn.key)
        if stack and conn in stack:
            stack.remove(conn)

    def close_target(self, host: str, port: int, *, tls: bool = False) -> None:
        """Close the idle connections to one upstream (its instance is gone).

        Requests still in flight there keep their connections: they end on their own.
        """
        for conn in self._idle.pop((host, port, tls), []):
            conn.abort()

    async def aclose(self) -> None:
        """Close every connection."""
        for conn in list(self._all):
            conn.abort()
        self._idle.clear()
        self._all.clear()
        # Let the transports run their close callbacks.
        with contextlib.suppress(Exception):
            await asyncio.sleep(0)
