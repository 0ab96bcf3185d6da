"""Reading a server's definitions for its docs, at a Streamable HTTP URL or a stdio command."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from mcp_console.backend.deploy.health import describe
from mcp_console.devtools.docs.listing import list_definitions
from mcp_console.devtools.targets import ServerTarget, command_target, connect, url_target
from mcp_console.schemas.errors import Unavailable
from mcp_console.schemas.server_docs import ServerDefinitions

CLIENT_NAME = "mcp-console-docs"


async def read_target(target: ServerTarget, *, timeout: float) -> ServerDefinitions:  # noqa: ASYNC109
    """What ``target`` lists; a stdio server's process ends afterwards.

    Raises:
        Unavailable: nothing there answered as an MCP server in time.
    """
    try:
        async with asyncio.timeout(timeout * 2):
            async with connect(target, timeout=timeout, client_name=CLIENT_NAME) as client:
                return await list_definitions(client)
    except Exception as exc:
        shown = target.label if target.url else repr(target.label)
        raise Unavailable(f"{shown} did not answer as an MCP server: {describe(exc)}") from None


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
    return await read_target(url_target(url, headers), timeout=timeout)


async def read_command(command: Sequence[str], *, timeout: float) -> ServerDefinitions:  # noqa: ASYNC109
    """What the stdio server ``command`` starts lists; the process ends afterwards.

    Raises:
        Invalid: no command, or its program is not found.
        Unavailable: it did not answer as an MCP server in time.
    """
    return await read_target(command_target(command), timeout=timeout)
