"""``mcp-console connect DEPLOYMENT``: a ready MCP client configuration for a deployment."""

from __future__ import annotations

import asyncio
import json
from enum import StrEnum
from typing import Any

import typer

from mcp_console.backend.daemon import DaemonFiles, read_token
from mcp_console.backend.runtime import Runtime
from mcp_console.cli.context import acting_user, load_settings, reported_errors
from mcp_console.client.host import daemon_client
from mcp_console.client.local import LocalClient
from mcp_console.client.protocol import ConsoleClient
from mcp_console.schemas.errors import Invalid
from mcp_console.settings import Settings

KEY_PLACEHOLDER = "<YOUR_API_KEY>"
VSCODE_INPUT = "mcp-console-api-key"


class ClientKind(StrEnum):
    """The MCP clients a configuration can be printed for."""

    CLAUDE_DESKTOP = "claude-desktop"
    CURSOR = "cursor"
    VSCODE = "vscode"
    JSON = "json"


def client_config(kind: ClientKind, name: str, url: str, key: str | None) -> dict[str, Any]:
    """The configuration entry ``kind`` expects for the endpoint ``url``.

    Args:
        kind: the client.
        name: the server's name in the client.
        url: the gateway endpoint.
        key: the API key to embed, or ``None`` for a placeholder (VS Code prompts instead).
    """
    bearer = f"Bearer {key or KEY_PLACEHOLDER}"
    if kind is ClientKind.CLAUDE_DESKTOP:
        # Claude Desktop's file starts local (stdio) servers only: mcp-remote bridges to HTTP.
        return {
            "mcpServers": {
                name: {
                    "command": "npx",
                    "args": ["-y", "mcp-remote", url, "--header", "Authorization:${AUTH_HEADER}"],
                    "env": {"AUTH_HEADER": bearer},
                }
            }
        }
    if kind is ClientKind.CURSOR:
        return {"mcpServers": {name: {"url": url, "headers": {"Authorization": bearer}}}}
    if kind is ClientKind.VSCODE:
        if key is not None:
            return {
                "servers": {
                    name: {"type": "http", "url": url, "headers": {"Authorization": bearer}}
                }
            }
        return {
            "inputs": [
                {
                    "type": "promptString",
                    "id": VSCODE_INPUT,
                    "description": "mcp-console API key",
                    "password": True,
                }
            ],
            "servers": {
                name: {
                    "type": "http",
                    "url": url,
                    "headers": {"Authorization": f"Bearer ${{input:{VSCODE_INPUT}}}"},
                }
            },
        }
    return {
        "name": name,
        "transport": "streamable-http",
        "url": url,
        "headers": {"Authorization": bearer},
    }


def gateway_base(settings: Settings) -> str:
    """The gateway's base URL as configured (a wildcard bind is reached over loopback)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(settings.bind_host, settings.bind_host)  # noqa: S104
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.gateway_port}"


def _split(deployment: str) -> tuple[str | None, str]:
    owner, _, name = deployment.rpartition("/")
    if not name or "/" in owner or (owner == "" and deployment.startswith("/")):
        raise Invalid(
            f"name a deployment as NAME or OWNER/NAME, got {deployment!r}", field="deployment"
        )
    return owner or None, name


async def _endpoint_of(
    client: ConsoleClient, owner: str | None, name: str
) -> tuple[str, str | None]:
    """The deployment's owner and its endpoint as last recorded.

    Raises:
        NotFound: the caller may not see such a deployment (theirs, shared with them or,
            for an admin, anyone's).
    """
    me = await client.whoami()
    owner = owner or me.name
    address = name if owner == me.name else f"{owner}/{name}"
    return owner, (await client.get_deployment(address)).endpoint_url


async def _locate(settings: Settings, owner: str | None, name: str) -> tuple[str, str | None]:
    """Find the deployment through the backend hosted for this data dir (the daemon, or the
    console running it), else a short-lived one.

    The endpoint comes back only from a host: its gateway recorded it where it is bound.
    Without one no gateway serves, so the configured address is what clients will reach.
    """
    remote = await daemon_client(settings)
    if remote is not None:
        async with remote:
            return await _endpoint_of(remote, owner, name)
    async with Runtime(settings) as runtime:
        local = LocalClient(runtime, await acting_user(runtime, settings))
        return (await _endpoint_of(local, owner, name))[0], None


def _own_key(settings: Settings) -> str:
    if settings.api_key:
        return settings.api_key
    token = read_token(DaemonFiles(settings.data_dir))
    if token:
        return token
    raise Invalid(
        "no API key to print: set MCP_CONSOLE_API_KEY (or start the daemon or the console, "
        "which keep the local admin's key), or leave out --with-key",
        field="with_key",
    )


def connect(
    deployment: str = typer.Argument(..., help="NAME (yours) or OWNER/NAME (shared with you)."),
    client: ClientKind = typer.Option(ClientKind.JSON, "--client", help="The MCP client."),
    with_key: bool = typer.Option(
        False, "--with-key", help="Embed your API key instead of a placeholder."
    ),
    gateway_url: str | None = typer.Option(
        None, "--gateway-url", help="The gateway's base URL, if not the configured one."
    ),
) -> None:
    """Print a ready MCP client configuration for a deployment's gateway endpoint.

    The deployment must exist. The URL is the one the gateway of the running daemon (or
    console) serves it at; without one, the configured gateway address (or ``--gateway-url``).
    """
    settings = load_settings()
    with reported_errors():
        owner, name = _split(deployment)
        owner, served = asyncio.run(_locate(settings, owner, name))
        if gateway_url:
            url = f"{gateway_url.rstrip('/')}/mcp/{owner}/{name}"
        else:
            url = served or f"{gateway_base(settings)}/mcp/{owner}/{name}"
        key = _own_key(settings) if with_key else None
    config = client_config(client, name, url, key)
    typer.echo(json.dumps(config, indent=2))
