"""Where docs are read from: an MCP server's Streamable HTTP URL or a stdio command."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import Implementation

from mcp_console import __version__
from mcp_console.backend.deploy.health import describe
from mcp_console.devtools.docs.listing import list_definitions
from mcp_console.schemas.errors import Invalid, Unavailable
from mcp_console.schemas.server_docs import ServerDefinitions

CLIENT_NAME = "mcp-console-docs"


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


@asynccontextmanager
async def _over_http(
    url: str,
    headers: dict[str, str],
    timeout: float,  # noqa: ASYNC109
) -> AsyncIterator[Client]:
    # Building a client loads the CA bundle (a tenth of a second or more): off the loop.
    http = await asyncio.to_thread(httpx2.AsyncClient, headers=headers, timeout=timeout)
    async with http:
        client = Client(
            streamable_http_client(url, http_client=http),
            mode="auto",
            read_timeout_seconds=timeout,
            client_info=Implementation(name=CLIENT_NAME, version=__version__),
            cache=None,
        )
        async with client:
            yield client


@asynccontextmanager
async def _over_stdio(command: Sequence[str], timeout: float) -> AsyncIterator[Client]:  # noqa: ASYNC109
    params = StdioServerParameters(command=command[0], args=list(command[1:]))
    client = Client(
        stdio_client(params),
        mode="auto",
        read_timeout_seconds=timeout,
        client_info=Implementation(name=CLIENT_NAME, version=__version__),
        cache=None,
    )
    async with client:
        yield client


async def read_url(
    url: str,
    *,
    timeout: float,  # noqa: ASYNC109
    headers: dict[str, str] | None = None,
) -> ServerDefinitions:
    """What the server at ``url`` lists (either protocol era), sending ``headers`` with
    every request.

    Raises:
        Invalid: ``url`` is not an http(s) URL.
        Unavailable: nothing there answered as an MCP server in time.
    """
    check_url(url)
    try:
        async with asyncio.timeout(timeout * 2):
            async with _over_http(url, headers or {}, timeout) as client:
                return await list_definitions(client)
    except Exception as exc:
        raise Unavailable(f"{url} did not answer as an MCP server: {describe(exc)}") from None


async def read_command(command: Sequence[str], *, timeout: float) -> ServerDefinitions:  # noqa: ASYNC109
    """What the stdio server ``command`` starts lists; the process ends afterwards.

    Raises:
        Invalid: no command, or its program is not found.
        Unavailable: it did not answer as an MCP server in time.
    """
    if not command:
        raise Invalid("give the server's command after --", field="command")
    if shutil.which(command[0]) is None:
        raise Invalid(f"{command[0]!r} is not a program found on PATH", field="command")
    shown = " ".join(command)
    try:
        async with asyncio.timeout(timeout * 2):
            async with _over_stdio(command, timeout) as client:
                return await list_definitions(client)
    except Exception as exc:
        raise Unavailable(f"{shown!r} did not answer as an MCP server: {describe(exc)}") from None
