"""The server a developer command reaches: a URL, a stdio command after ``--``, a deployment
or a catalog version; one rule for every command that takes one."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

import typer

# Typer (pinned) vendors its own Click: its commands take that Click's context.
from typer import _click as click
from typer.core import TyperCommand

from mcp_console.client.protocol import ConsoleClient
from mcp_console.devtools.targets import ServerTarget, command_target, is_url, parse_headers
from mcp_console.devtools.targets import url_target as url_server
from mcp_console.schemas.deploy import DeploymentCreate, DeploymentDetail, DeploymentStatus
from mcp_console.schemas.errors import Invalid, Unavailable
from mcp_console.schemas.server_target import split_command
from mcp_console.schemas.users import KeyCreate

T = TypeVar("T")

# One more header for a URL, read here rather than by Click: Click would split its value
# at each space, and a bearer key on the command line shows in the process list.
HEADER_ENV = "MCP_CONSOLE_DOCS_HEADER"
# Where the words after ``--`` (a stdio server's command) are kept for the callback.
COMMAND_META = "mcp_console.target.command"
TARGET_METAVAR = "[URL | DEPLOYMENT | SERVICE@VERSION] [-- COMMAND ARGS...]"
# A header for a URL server, on every command that reaches one.
HEADERS_OPTION = typer.Option(
    [],
    "--header",
    "-H",
    metavar="'NAME: VALUE'",
    help="A header to send to a URL (repeatable), e.g. 'Authorization: Bearer KEY'. "
    f"{HEADER_ENV} (one NAME: VALUE) keeps a key out of the process list.",
)
TARGET_HELP = (
    "The server: a Streamable HTTP URL, a deployment (NAME or OWNER/NAME, reached through "
    "the gateway as you), a catalog version (SERVICE@VERSION or SERVICE@latest, deployed "
    "while it is used, then deleted), or after -- a command that starts a stdio server."
)
# How long a key minted for one session at a deployment's endpoint works at most.
SESSION_KEY_LIFETIME = "1h"


class TargetCommand(TyperCommand):
    """A command with everything after ``--`` taken as a stdio server's command line.

    Click drops the ``--`` itself, so its arguments alone cannot tell ``docs NAME`` from
    ``docs -- PROGRAM``.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            at = args.index("--")
            ctx.meta[COMMAND_META] = args[at + 1 :]
            args = args[:at]
        return super().parse_args(ctx, args)


class TargetKind(StrEnum):
    """How a target names its server."""

    URL = "url"
    COMMAND = "command"
    DEPLOYMENT = "deployment"
    VERSION = "version"


@dataclass(frozen=True)
class Target:
    """A server as the command line named it."""

    kind: TargetKind
    text: str
    command: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()

    @property
    def service(self) -> str:
        """The catalog service of a VERSION target."""
        return self.text.partition("@")[0]

    @property
    def version(self) -> str | None:
        """The version of a VERSION target (``None``: the latest)."""
        version = self.text.partition("@")[2]
        return None if version in ("", "latest") else version


def parse_target(target: str | None, command: list[str] | None, headers: list[str]) -> Target:
    """What ``target`` (or the ``command`` after ``--``) names.

    Raises:
        Invalid: neither or both given, --header without a URL, or no service before ``@``.
    """
    if headers and (command is not None or not target or not is_url(target)):
        raise Invalid("--header goes with a URL only", field="header")
    if command is not None:
        if target:
            raise Invalid(
                f"give a URL or deployment ({target!r}) or a command after --, not both",
                field="target",
            )
        return Target(TargetKind.COMMAND, " ".join(command), command=tuple(command))
    if not target:
        raise Invalid(
            "give the server: a URL, a deployment (NAME or OWNER/NAME), or -- COMMAND ARGS",
            field="target",
        )
    if is_url(target):
        sent = (*headers, *filter(None, [os.environ.get(HEADER_ENV)]))
        return Target(TargetKind.URL, target, headers=sent)
    if "@" in target:
        if not target.partition("@")[0]:
            raise Invalid("give the service before @ (SERVICE@VERSION)", field="target")
        return Target(TargetKind.VERSION, target)
    return Target(TargetKind.DEPLOYMENT, target)


def local_server(target: Target) -> ServerTarget | None:
    """The server of a URL or command target (``None`` for one the backend runs).

    Raises:
        Invalid: a URL that is not http(s), a bad header, or a program not on PATH.
    """
    if target.kind is TargetKind.URL:
        return url_server(target.text, parse_headers(target.headers))
    if target.kind is TargetKind.COMMAND:
        return command_target(target.command)
    return None


def console_server(text: str) -> ServerTarget:
    """The server ``mcp-console --inspect`` names: a URL (with the header of HEADER_ENV) or
    a command line, quoted as one argument.

    Raises:
        Invalid: a URL that is not http(s), a bad header, a bad quote, or a program not on
            PATH.
    """
    if is_url(text):
        return url_server(text, parse_headers([*filter(None, [os.environ.get(HEADER_ENV)])]))
    return command_target(split_command(text))


@asynccontextmanager
async def temporary_deployment(
    client: ConsoleClient,
    service: str,
    version: str | None,
    prefix: str,
    like: DeploymentDetail | None = None,
) -> AsyncIterator[str]:
    """A deployment of ``service@version`` running for as long as the block takes, then
    deleted: its name. With ``like``, it runs as that deployment does (configuration,
    runtime, session mode, limits, host variables; secrets stay where they are).

    Raises:
        NotFound: no such service or version.
        Unavailable: it did not start.
    """
    from mcp_console.cli.follow import follow

    settings = (
        {
            "config": like.config,
            "runtime": like.runtime,
            "session_mode": like.session_mode,
            "cpu_limit": like.cpu_limit,
            "memory_limit_mb": like.memory_limit_mb,
            "pass_env": like.pass_env,
        }
        if like is not None
        else {}
    )
    new = DeploymentCreate(
        service=service,
        version=version,
        name=f"{prefix}-{secrets.token_hex(4)}",
        replicas=1,
        **settings,
    )
    detail = await follow(client, lambda c: c.create_deployment(new))
    try:
        if detail.status is not DeploymentStatus.RUNNING or detail.ready_replicas < 1:
            reason = f": {detail.status_reason}" if detail.status_reason else ""
            raise Unavailable(
                f"{service}@{detail.version} did not start ({detail.status.value}{reason})"
            )
        yield new.name
    finally:
        await client.delete_deployment(new.name)


@asynccontextmanager
async def deployment_server(client: ConsoleClient, name: str) -> AsyncIterator[ServerTarget]:
    """The endpoint of deployment ``name`` with a key of the caller's that works there only,
    revoked when the block ends.

    Raises:
        NotFound: the caller has no deployment of that name.
        Unavailable: no gateway serves it.
    """
    detail = await client.get_deployment(name)
    if not detail.endpoint_url:
        raise Unavailable(f"{detail.address} has no endpoint: is the gateway running?")
    minted = await client.create_key(
        KeyCreate(
            name=f"mcp-console session {secrets.token_hex(4)}",
            expires_in=SESSION_KEY_LIFETIME,
            deployments=[name],
        )
    )
    try:
        yield ServerTarget(
            label=detail.address,
            url=detail.endpoint_url,
            headers={"Authorization": f"Bearer {minted.api_key}"},
            legacy=detail.session_mode == "per-session",
        )
    finally:
        await client.revoke_key(str(minted.key.id))


def with_server(target: Target, action: Callable[[ServerTarget], Coroutine[Any, Any, T]]) -> T:
    """Run ``action`` with a session's way to ``target``: directly for a URL or a command,
    through the daemon (started if needed) for a deployment or a catalog version."""
    server = local_server(target)
    if server is not None:
        return asyncio.run(action(server))
    from mcp_console.cli.deploy import on_daemon

    async def through_daemon(client: ConsoleClient) -> T:
        if target.kind is TargetKind.DEPLOYMENT:
            async with deployment_server(client, target.text) as found:
                return await action(found)
        temporary = temporary_deployment(client, target.service, target.version, "dev")
        async with temporary as name, deployment_server(client, name) as found:
            return await action(found)

    return on_daemon(through_daemon)
