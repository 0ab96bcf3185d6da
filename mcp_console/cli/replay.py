"""``mcp-console replay``, ``mock`` and ``record``: a recorded session re-run against a server
with a diff of the answers, served as a mock server, or written as a pytest module."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

import typer

from mcp_console.cli.context import JSON_OPTION, emit, reported_errors
from mcp_console.cli.targets import (
    COMMAND_META,
    HEADERS_OPTION,
    TARGET_HELP,
    Target,
    TargetCommand,
    parse_target,
    with_server,
)
from mcp_console.devtools.compare import DEFAULT_RULES, JsonPath, parse_path
from mcp_console.devtools.targets import ServerTarget
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.recording import Recording, ReplayReport

RECORDING = typer.Argument(
    ..., metavar="FILE", help="A recording ('mcp-console inspect TARGET --record FILE')."
)
AGAINST_OPTION = typer.Option(
    None,
    "--against",
    metavar="TARGET",
    help=f"{TARGET_HELP} Default: the server the recording was made with.",
)
IGNORE_HELP = (
    "Leave this JSONPath out of the comparison (repeatable): $.key, $..key (at any depth), "
    f"[N], [*], .* (e.g. $..timestamp, $.content[*].text). Always left out: {DEFAULT_RULES}."
)


def _read(path: Path) -> Recording:
    from mcp_console.devtools.recording import read

    return read(path)


def _recorded_target(
    recording: Recording, against: str | None, command: list[str] | None
) -> tuple[str | None, list[str] | None]:
    """The server to replay against: as given, else the one the recording was made with."""
    if against is not None or command is not None:
        return against, command
    if recording.header.command:
        return None, recording.header.command
    return recording.header.target, None


def replay(
    ctx: typer.Context,
    path: Path = RECORDING,
    against: str | None = AGAINST_OPTION,
    ignore: list[str] = typer.Option([], "--ignore", metavar="JSONPATH", help=IGNORE_HELP),
    headers: list[str] = HEADERS_OPTION,
    to_pytest: bool = typer.Option(
        False, "--to-pytest", help="Print a pytest module that replays it instead of replaying."
    ),
    timeout: float = typer.Option(
        30.0, "--timeout", min=1.0, help="Seconds to wait for each answer of the server."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Send a recording's requests to a server again and compare each answer with the
    recorded one, structurally; exit 1 when any differs, naming where."""
    command: list[str] | None = ctx.meta.get(COMMAND_META)
    with reported_errors():
        rules = [parse_path(text) for text in ignore]
        recording = _read(path)
        given, argv = _recorded_target(recording, against, command)
        if to_pytest:
            _print_pytest(recording, given, argv, ignore)
            return
        target = parse_target(given, argv, headers)
    report = replay_report(recording, target, rules, timeout)
    _print_report(report, str(path), as_json)


def replay_report(
    recording: Recording, target: Target, rules: list[JsonPath], timeout: float
) -> ReplayReport:
    """Replay ``recording`` against ``target`` with what ``rules`` select left out."""
    from mcp_console.devtools.replay import replay as replayed

    async def action(server: ServerTarget) -> ReplayReport:
        return await replayed(recording, server, ignore=rules, timeout=timeout)

    with reported_errors():
        return with_server(target, action)


def _print_report(report: ReplayReport, source: str, as_json: bool) -> None:
    from mcp_console.devtools.replay import report_text

    emit(report, as_json, lambda: typer.echo(report_text(report, source), nl=False))
    if not report.same:
        raise typer.Exit(1)


def _print_pytest(
    recording: Recording, target: str | None, command: list[str] | None, ignore: list[str]
) -> None:
    from mcp_console.devtools.pytest_file import pytest_module

    if target is None and not command:
        raise Invalid("name the server to replay against: --against TARGET", field="against")
    typer.echo(pytest_module(recording, target=target, command=command, ignore=ignore), nl=False)


def record(
    ctx: typer.Context,
    to_pytest: Path = typer.Option(
        ...,
        "--to-pytest",
        metavar="FILE",
        help="The recording to write a pytest module for (printed on stdout).",
    ),
    against: str | None = AGAINST_OPTION,
    ignore: list[str] = typer.Option([], "--ignore", metavar="JSONPATH", help=IGNORE_HELP),
) -> None:
    """Write a pytest module that replays a recording against its server (record one with
    'mcp-console inspect TARGET --record FILE'): mcp-console record --to-pytest FILE >
    test_x.py."""
    command: list[str] | None = ctx.meta.get(COMMAND_META)
    with reported_errors():
        for text in ignore:
            parse_path(text)
        recording = _read(to_pytest)
        given, argv = _recorded_target(recording, against, command)
        _print_pytest(recording, given, argv, ignore)


def mock(
    path: Path = RECORDING,
    http: int | None = typer.Option(
        None,
        "--http",
        metavar="PORT",
        min=0,
        max=65535,
        help="Serve Streamable HTTP on 127.0.0.1:PORT (0: any free port) instead of stdio.",
    ),
) -> None:
    """Serve a recording as an MCP server: each request is answered by the recorded request
    it matches (the same method and parameters; repeated ones in the order recorded)."""
    from mcp_console.devtools.mock import serve_http, serve_stdio

    with reported_errors():
        recording = _read(path)
    if http is None:
        asyncio.run(serve_stdio(recording))
        return

    def ready(url: str) -> None:
        print(f"serving {path} at {url} (ctrl-c stops)", file=sys.stderr, flush=True)

    with contextlib.suppress(KeyboardInterrupt):  # ctrl-c is how it stops
        asyncio.run(serve_http(recording, http, ready))


# The command loader (cli/__init__.py) builds these commands with this class.
COMMAND_CLASS = TargetCommand
