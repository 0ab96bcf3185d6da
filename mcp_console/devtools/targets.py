"""Where a developer tool reaches an MCP server: a Streamable HTTP URL or a stdio command."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TextIO

# The rules live with the target's DTO, where the console's screens can use them too.
from mcp_console.schemas.server_target import (
    ServerTarget,
    check_url,
    command_target,
    is_url,
    parse_headers,
    url_target,
)

if TYPE_CHECKING:
    from mcp import Client

    from mcp_console.backend.monitor.inspector_session import Exchange

CLIENT_NAME = "mcp-console-devtools"

__all__ = [
    "ServerTarget",
    "check_url",
    "command_target",
    "connect",
    "is_url",
    "parse_headers",
    "url_target",
]


@asynccontextmanager
async def connect(
    target: ServerTarget,
    *,
    timeout: float,  # noqa: ASYNC109
    exchange: Exchange | None = None,
    client_name: str = CLIENT_NAME,
    errlog: TextIO | None = None,
) -> AsyncIterator[Client]:
    """An open SDK client session with ``target``; every message noted in ``exchange``.

    Args:
        target: the server.
        timeout: seconds any one request may take.
        exchange: where each JSON-RPC message goes as it passes (``None``: nowhere).
        client_name: how the session introduces itself.
        errlog: a file (with a descriptor) for a stdio server's stderr (``None``: this
            process's stderr as it is now).
    """
    # The SDK and the HTTP client load only when a session opens.
    import httpx2
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.types import Implementation

    from mcp_console import __version__
    from mcp_console.backend.monitor.inspector_session import RecordingTransport

    def opened(transport: Any) -> Client:
        if exchange is not None:
            transport = RecordingTransport(transport, exchange)
        return Client(
            transport,
            mode="legacy" if target.legacy else "auto",
            read_timeout_seconds=timeout,
            client_info=Implementation(name=client_name, version=__version__),
            cache=None,  # a developer tool shows what the server says now
        )

    if target.url is None:
        params = StdioServerParameters(command=target.command[0], args=list(target.command[1:]))
        # The SDK's default is the stderr of when it was imported, maybe not a file then.
        stderr = sys.stderr if errlog is None else errlog
        async with opened(stdio_client(params, errlog=stderr)) as client:
            yield client
        return
    # Building a client loads the CA bundle (a tenth of a second or more): off the loop.
    http = await asyncio.to_thread(httpx2.AsyncClient, headers=target.headers, timeout=timeout)
    async with http, opened(streamable_http_client(target.url, http_client=http)) as client:
        yield client
