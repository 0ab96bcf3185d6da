"""``mcp-console docs``: API docs generated from what a live MCP server lists, and a drift gate."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from mcp_console.cli.context import reported_errors, run
from mcp_console.cli.targets import (
    COMMAND_META,
    HEADERS_OPTION,
    TARGET_HELP,
    TARGET_METAVAR,
    TargetCommand,
    TargetKind,
    local_server,
    parse_target,
    temporary_deployment,
)
from mcp_console.client.protocol import ConsoleClient
from mcp_console.devtools.docs.output import DocFormat, render, write
from mcp_console.schemas.errors import Invalid, NotFound
from mcp_console.schemas.server_docs import ServerDefinitions


def _definitions(
    target: str | None, command: list[str] | None, headers: list[str], timeout: float
) -> ServerDefinitions:
    found = parse_target(target, command, headers)
    server = local_server(found)
    if server is not None:
        # The SDK and the HTTP client load only for a URL or a command.
        from mcp_console.devtools.docs.targets import read_target

        return asyncio.run(read_target(server, timeout=timeout))
    if found.kind is TargetKind.VERSION:
        from mcp_console.cli.deploy import on_daemon

        return on_daemon(lambda c: _of_version(c, found.service, found.version))
    return run(lambda c: _of_deployment(c, found.text))


async def _of_deployment(client: ConsoleClient, name: str) -> ServerDefinitions:
    try:
        return await client.server_definitions(name)
    except NotFound as missing:
        raise NotFound(
            f"{missing.message}; a catalog service is written SERVICE@VERSION or SERVICE@latest",
            field=missing.field,
        ) from None


async def _of_version(
    client: ConsoleClient, service: str, version: str | None
) -> ServerDefinitions:
    """Deploy ``service@version`` for as long as it takes to read its definitions."""
    async with temporary_deployment(client, service, version, "docs") as name:
        return await client.server_definitions(name)


def docs(
    ctx: typer.Context,
    target: str | None = typer.Argument(
        None,
        metavar=TARGET_METAVAR,
        help=TARGET_HELP,
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
    headers: list[str] = HEADERS_OPTION,
    timeout: float = typer.Option(
        30.0, "--timeout", min=1.0, help="Seconds to wait for each answer of the server."
    ),
    examples_from: Path | None = typer.Option(
        None,
        "--examples",
        metavar="RECORDING",
        help="Show each tool's first call in this recording ('inspect --record') and its "
        "result as an example.",
    ),
) -> None:
    """API docs generated from a live MCP server, or a check that it lists what was published."""
    command: list[str] | None = ctx.meta.get(COMMAND_META)
    with reported_errors():
        if check is not None and out is not None:
            raise Invalid("--check compares and writes nothing: leave out --out", field="out")
        examples = None
        if examples_from is not None:
            if check is not None or fmt is DocFormat.JSON:
                raise Invalid(
                    "--examples go into a document: use --format md or html, without --check",
                    field="examples",
                )
            from mcp_console.devtools.docs.examples import tool_examples
            from mcp_console.devtools.recording import read

            examples = tool_examples(read(examples_from))
        # Read before asking the server: a bad snapshot path should not wait on a server.
        if check is not None:
            published, source = _published(check)
        found = _definitions(target, command, headers, timeout)
        if check is not None:
            _check(published, found, source)
            return
        if out is None:
            typer.echo(render(found, fmt, examples), nl=False)
            return
        for path in write(found, fmt, out, examples):
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
COMMAND_CLASS = TargetCommand
