"""``mcp-console inspect``: list what any MCP server offers, or call one of its tools, and
record the session."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import typer

from mcp_console.cli.context import JSON_OPTION, emit, reported_errors
from mcp_console.cli.live import parse_arguments, print_outcome, print_report
from mcp_console.cli.targets import (
    COMMAND_META,
    HEADERS_OPTION,
    TARGET_HELP,
    TargetCommand,
    parse_target,
    with_server,
)
from mcp_console.devtools.targets import ServerTarget
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.monitor import InspectReport, ToolCallOutcome


def _split(words: list[str], command: list[str] | None) -> tuple[str | None, list[str]]:
    """The target and the KEY=VALUE arguments among the positional words."""
    if command is not None or not words:
        return None, words
    return words[0], words[1:]


def inspect(
    ctx: typer.Context,
    words: list[str] = typer.Argument(
        None,
        metavar="[URL | DEPLOYMENT | SERVICE@VERSION] [KEY=VALUE...] [-- COMMAND ARGS...]",
        help=f"{TARGET_HELP} With --call, the tool's arguments follow as KEY=VALUE (each "
        "VALUE typed as the tool's input schema declares it).",
        show_default=False,
    ),
    tool: str | None = typer.Option(
        None, "--call", metavar="TOOL", help="Call this tool and print its result."
    ),
    record: Path | None = typer.Option(
        None,
        "--record",
        metavar="FILE",
        help="Write the session (every JSON-RPC request and reply, with its direction and "
        "time) to FILE as JSON lines, for replay and mock.",
    ),
    headers: list[str] = HEADERS_OPTION,
    exchange: bool = typer.Option(False, "--exchange", help="Print every JSON-RPC message."),
    timeout: float = typer.Option(
        30.0, "--timeout", min=1.0, help="Seconds to wait for each answer of the server."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Connect to any MCP server (a URL in either protocol era, a stdio command after --, a
    deployment or a catalog version); list its tools, resources and prompts, or --call one
    tool; --record writes the session for 'replay' and 'mock'."""
    from mcp_console.devtools import inspect_session, recording

    command: list[str] | None = ctx.meta.get(COMMAND_META)
    with reported_errors():
        given, items = _split(list(words or []), command)
        if items and tool is None:
            raise Invalid(
                f"{items[0]!r}: KEY=VALUE arguments go with --call TOOL", field="arguments"
            )
        parse_arguments(items)  # a malformed item is refused before any server starts
        target = parse_target(given, command, headers)
        if record is not None and not record.expanduser().parent.is_dir():
            raise Invalid(f"cannot write {record}: its folder does not exist", field="record")

    def typed(schema: Mapping[str, Any] | None) -> dict[str, Any]:
        return parse_arguments(items, schema, tool=tool or "the tool")

    async def session(server: ServerTarget) -> InspectReport | ToolCallOutcome:
        opened = inspect_session.Session(server)
        result: InspectReport | ToolCallOutcome
        if tool is None:
            result = await inspect_session.inspect(opened, timeout=timeout)
        else:
            result = await inspect_session.call(opened, tool, typed, timeout=timeout)
        if record is not None:
            # Written once the session is over, whole (a failed session writes nothing).
            recording.write(opened.recording(), record)
        return result

    with reported_errors():
        result = with_server(target, session)
    if record is not None:
        typer.echo(f"recorded {len(result.exchange)} messages to {record}", err=True)
    if isinstance(result, InspectReport):
        emit(result, as_json, lambda: print_report(result, exchange))
        return
    outcome = result
    emit(outcome, as_json, lambda: print_outcome(outcome, exchange))
    if outcome.is_error:
        typer.echo(f"error: {tool} reported a failure", err=True)
        raise typer.Exit(1)


# The command loader (cli/__init__.py) builds ``inspect`` with this class.
COMMAND_CLASS = TargetCommand
