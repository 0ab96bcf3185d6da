"""A loopback HTTP proxy that adds an API key to every request (for clients that send none)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import anyio
import httpx
import uvicorn
from starlette.types import Message, Receive, Scope, Send

from mcp_console.backend.gateway.server import bind

# Headers of one hop only; the proxy sets its own framing and the key.
_DROPPED = frozenset({b"authorization", b"connection", b"content-length", b"transfer-encoding"})


class KeyProxy:
    """Forwards every request to ``target`` with ``Authorization: Bearer <key>`` added.

    Everything else passes unchanged, the Host and Origin headers included, so the gateway
    behind judges them as the client sent them; replies (SSE streams too) are relayed as
    they arrive.
    """

    def __init__(self, target: str, key: str) -> None:
        self.target = target.rstrip("/")
        self.key = key
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(30, read=300))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k, v) for k, v in scope["headers"] if k not in _DROPPED]
        headers.append((b"authorization", f"Bearer {self.key}".encode()))
        query = scope["query_string"].decode("latin-1")
        url = self.target + scope["path"] + (f"?{query}" if query else "")
        request = self._http.build_request(scope["method"], url, headers=headers, content=body)
        response = await self._http.send(request, stream=True)
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._relay, response, send, group.cancel_scope)
                await _until_disconnected(receive)
                group.cancel_scope.cancel()
        finally:
            await response.aclose()

    async def _relay(self, response: httpx.Response, send: Send, scope: anyio.CancelScope) -> None:
        headers = [(k, v) for k, v in response.headers.raw if k.lower() not in _DROPPED]
        await send(
            {"type": "http.response.start", "status": response.status_code, "headers": headers}
        )
        async for chunk in response.aiter_raw():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        scope.cancel()

    async def aclose(self) -> None:
        """Close the proxy's connections to the target."""
        await self._http.aclose()


class _Uvicorn(uvicorn.Server):
    """uvicorn leaving signals to the test process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _until_disconnected(receive: Receive) -> None:
    message: Message = {}
    while message.get("type") != "http.disconnect":
        message = await receive()


@contextlib.asynccontextmanager
async def serving(proxy: KeyProxy) -> AsyncIterator[str]:
    """Serve ``proxy`` on a free loopback port; yields its base URL."""
    sock = await bind("127.0.0.1", 0)
    config = uvicorn.Config(
        proxy, lifespan="off", log_level="warning", ws="none", timeout_graceful_shutdown=2
    )
    server = _Uvicorn(config)
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve, [sock])
        while not server.started:
            await anyio.sleep(0.01)
        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}"
        finally:
            server.should_exit = True
            await proxy.aclose()
