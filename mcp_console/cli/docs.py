"""``mcp-console docs``: API docs generated from what a live MCP server lists, and a drift gate."""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path

import typer

# Typer (pinned) vendors its own Click: its commands take that Click's context.
from typer import _click as click
from typer.core import TyperCommand

from mcp_console.cli.context import reported_errors, run
from mcp_console.client.protocol import ConsoleClient
from mcp_console.devtools.docs.output import DocFormat, render, write
from mcp_console.schemas.deploy import DeploymentCreate, DeploymentStatus
from mcp_console.schemas.errors import Invalid, NotFound, Unavailable
from mcp_console.schemas.server_docs import ServerDefinitions

# One more header for a URL, read here rather than by Click: Click would split its value
# at each space, and a bearer key on the command line shows in the process list.
HEADER_ENV = "MCP_CONSOLE_DOCS_HEADER"
# Where the words after ``--`` (a stdio server's command) are kept for the callback.
COMMAND_META = "mcp_console.docs.command"


class DocsCommand(TyperCommand):
    """The command, with everything after ``--`` taken as the server's command line.

    Click drops the ``--`` itself, so its arguments alone cannot tell ``docs NAME`` from
    ``docs -- PROGRAM``.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            at = args.index("--")
            ctx.meta[COMMAND_META] = args[at + 1 :]
            args = args[:at]
        return super().parse_args(ctx, args)


def _definitions(
    target: str | None, command: list[str] | None, headers: list[str], timeout: float
) -> ServerDefinitions:
    # The SDK and the HTTP client load only for a URL or a command.
    from mcp_console.devtools.docs.targets import is_url, parse_headers, read_command, read_url

    if headers and (command is not None or not target or not is_url(target)):
        raise Invalid("--header goes with a URL only", field="header")
    if command is not None:
        if target:
            raise Invalid(
                f"give a URL or deployment ({target!r}) or a command after --, not both",
                field="target",
            )
        return asyncio.run(read_command(command, timeout=timeout))
    if not target:
        raise Invalid(
            "give the server: a URL, a deployment (NAME or OWNER/NAME), or -- COMMAND ARGS",
            field="target",
        )
    if is_url(target):
        sent = parse_headers([*headers, *filter(None, [os.environ.get(HEADER_ENV)])])
        return asyncio.run(read_url(target, timeout=timeout, headers=sent))
    if "@" in target:
        from mcp_console.cli.deploy import on_daemon

        service, _, version = target.partition("@")
        return on_daemon(lambda c: _of_version(c, service, version))
    name = target
    return run(lambda c: _of_deployment(c, name))


async def _of_deployment(client: ConsoleClient, name: str) -> ServerDefinitions:
    try:
        return await client.server_definitions(name)
    except NotFound as missing:
        raise NotFound(
            f"{missing.message}; a catalog service is written SERVICE@VERSION or SERVICE@latest",
            field=missing.field,
        ) from None


async def _of_version(client: ConsoleClient, service: str, version: str) -> ServerDefinitions:
    """Deploy ``service@version`` for as long as it takes to read its definitions."""
    from mcp_console.cli.follow import follow

    if not service:
        raise Invalid("give the service before @ (SERVICE@VERSION)", field="target")
    new = DeploymentCreate(
        service=service,
        version=None if version in ("", "latest") else version,
        name=f"docs-{secrets.token_hex(4)}",
        replicas=1,
    )
    detail = await follow(client, lambda c: c.create_deployment(new))
    try:
        if detail.status is not DeploymentStatus.RUNNING or detail.ready_replicas < 1:
            reason = f": {detail.status_reason}" if detail.status_reason else ""
            raise Unavailable(
                f"{service}@{detail.version} did not start ({detail.status.value}{reason})"
            )
        return await client.server_definitions(new.name)
    finally:
        await client.delete_deployment(new.name)


def docs(
    ctx: typer.Context,
    target: str | None = typer.Argument(
        None,
        metavar="[URL | DEPLOYMENT | SERVICE@VERSION] [-- COMMAND ARGS...]",
        help="The server: a Streamable HTTP URL, a deployment (NAME or OWNER/NAME, reached "
        "through the gateway as you), a catalog version (SERVICE@VERSION or SERVICE@latest, "
        "deployed while it is read, then deleted), or after -- a command that starts a "
        "stdio server.",
        show_default=False,
    ),
    fmt: DocFormat = typer.Option(
        DocFormat.MD,
        "--format",
        help="md or html: the API document; json: the snapshot --check compares with.",
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        metavar="DIR",
        help="Write api.md (or api.html) and definitions.json into DIR instead of printing.",
    ),
    check: str | None = typer.Option(
        None,
        "--check",
        metavar="FILE | SERVICE@VERSION",
        help="Compare the live definitions with a snapshot (definitions.json) or with what a "
        "catalog version published (its API spec; SERVICE@latest for the latest): exit 1 "
        "with a diff when they differ, 0 when they match.",
    ),
    headers: list[str] = typer.Option(
        [],
        "--header",
        "-H",
        metavar="'NAME: VALUE'",
        help="A header to send to a URL (repeatable), e.g. 'Authorization: Bearer KEY'. "
        f"{HEADER_ENV} (one NAME: VALUE) keeps a key out of the process list.",
    ),
    timeout: float = typer.Option(
        30.0, "--timeout", min=1.0, help="Seconds to wait for each answer of the server."
    ),
) -> None:
    """API docs generated from a live MCP server, or a check that it lists what was published."""
    command: list[str] | None = ctx.meta.get(COMMAND_META)
    with reported_errors():
        if check is not None and out is not None:
            raise Invalid("--check compares and writes nothing: leave out --out", field="out")
        # Read before asking the server: a bad snapshot path should not wait on a server.
        if check is not None:
            published, source = _published(check)
        found = _definitions(target, command, headers, timeout)
        if check is not None:
            _check(published, found, source)
            return
        if out is None:
            typer.echo(render(found, fmt), nl=False)
            return
        for path in write(found, fmt, out):
            typer.echo(f"wrote {path}")


def _published(check: str) -> tuple[ServerDefinitions, str]:
    """What ``--check`` compares with, and how to name it: a snapshot file (a path that
    exists, or one without ``@``), else a catalog version's published spec."""
    path = Path(check)
    if "@" not in check or path.exists():
        from mcp_console.devtools.docs.check import read_snapshot

        return read_snapshot(path), str(path)
    service, _, version = check.partition("@")
    return run(lambda c: _version_spec(c, service, version))


async def _version_spec(
    client: ConsoleClient, service: str, version: str
) -> tuple[ServerDefinitions, str]:
    from mcp_console.devtools.docs.published import definitions_of

    if not service:
        raise Invalid("give the service before @ (SERVICE@VERSION)", field="check")
    detail = await client.get_service(service)
    latest = version in ("", "latest")
    chosen = next(
        (v for v in detail.versions if (v.is_latest if latest else v.version == version)), None
    )
    if chosen is None:
        known = ", ".join(v.version for v in detail.versions) or "none"
        raise NotFound(
            f"{service} has no version {version or 'latest'} (its versions: {known})",
            field="check",
        )
    named = f"{service}@{chosen.version}"
    published = definitions_of(chosen.api_spec)
    if not (published.tools or published.resources or published.prompts):
        raise Invalid(
            f"{named} published no API spec to check against (its author publishes one with "
            "'mcp-console dev publish')",
            field="check",
        )
    return published, named


def _check(published: ServerDefinitions, found: ServerDefinitions, source: str) -> None:
    from mcp_console.devtools.docs.check import definitions, differences, report

    differ = differences(published, found)
    if differ:
        typer.echo(
            f"{len(differ)} definition(s) differ from {source}:\n\n{report(differ)}", nl=False
        )
        raise typer.Exit(1)
    typer.echo(f"the server lists what {source} holds ({len(definitions(found))} definitions)")


# The command loader (cli/__init__.py) builds ``docs`` with this class.
COMMAND_CLASS = DocsCommand
