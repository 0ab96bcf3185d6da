"""Where a developer tool reaches an MCP server: a Streamable HTTP URL or a stdio command."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mcp_console.schemas.errors import Invalid

if TYPE_CHECKING:
    from mcp import Client

    from mcp_console.backend.monitor.inspector_session import Exchange

CLIENT_NAME = "mcp-console-devtools"


@dataclass(frozen=True)
class ServerTarget:
    """An MCP server to open a session with: ``url`` (with ``headers``) or ``command``.

    Attributes:
        label: how messages name it (the URL, the command line, or a deployment's name).
        url: its Streamable HTTP endpoint (either protocol era).
        headers: sent with every HTTP request (a bearer key); never shown.
        command: the program and arguments that start a stdio server.
        legacy: open the session with the initialize handshake (servers that speak only it).
    """

    label: str
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    command: tuple[str, ...] = ()
    legacy: bool = False


def is_url(target: str) -> bool:
    """Whether ``target`` names a server by URL (else it names a deployment)."""
    return "://" in target


def check_url(url: str) -> str:
    """``url`` if it can name a Streamable HTTP endpoint.

    Raises:
        Invalid: not an http(s) URL with a host.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(
            f"{url!r} is not an MCP server's URL: give http(s)://HOST[:PORT]/PATH", field="target"
        )
    return url


def parse_headers(given: Sequence[str]) -> dict[str, str]:
    """``NAME: VALUE`` pairs as headers (a bearer key for an endpoint that asks for one).

    Raises:
        Invalid: one is not ``NAME: VALUE`` (the message shows the name only: values are
            often secrets).
    """
    headers: dict[str, str] = {}
    for item in given:
        name, colon, value = item.partition(":")
        if not colon or not name.strip() or any(c.isspace() for c in name.strip()):
            shown = name.strip().split()[0] if name.strip() else ""
            raise Invalid(
                f"a header is NAME: VALUE (e.g. 'Authorization: Bearer KEY'), not {shown!r}...",
                field="header",
            )
        headers[name.strip()] = value.strip()
    return headers


def url_target(url: str, headers: dict[str, str] | None = None) -> ServerTarget:
    """The server at ``url``.

    Raises:
        Invalid: ``url`` is not an http(s) URL.
    """
    return ServerTarget(label=check_url(url), url=url, headers=dict(headers or {}))


def command_target(command: Sequence[str]) -> ServerTarget:
    """The stdio server ``command`` starts.

    Raises:
        Invalid: no command, or its program is not found.
    """
    if not command:
        raise Invalid("give the server's command after --", field="command")
    if shutil.which(command[0]) is None:
        raise Invalid(f"{command[0]!r} is not a program found on PATH", field="command")
    return ServerTarget(label=" ".join(command), command=tuple(command))


@asynccontextmanager
async def connect(
    target: ServerTarget,
    *,
    timeout: float,  # noqa: ASYNC109
    exchange: Exchange | None = None,
    client_name: str = CLIENT_NAME,
) -> AsyncIterator[Client]:
    """An open SDK client session with ``target``; every message noted in ``exchange``.

    Args:
        target: the server.
        timeout: seconds any one request may take.
        exchange: where each JSON-RPC message goes as it passes (``None``: nowhere).
        client_name: how the session introduces itself.
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
        async with opened(stdio_client(params)) as client:
            yield client
        return
    # Building a client loads the CA bundle (a tenth of a second or more): off the loop.
    http = await asyncio.to_thread(httpx2.AsyncClient, headers=target.headers, timeout=timeout)
    async with http, opened(streamable_http_client(target.url, http_client=http)) as client:
        yield client
