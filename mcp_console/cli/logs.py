"""``logs search``: the kept log lines of every deployment you may read, filtered."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable

import typer

from mcp_console.cli.context import JSON_OPTION, emit, run, validated
from mcp_console.client.protocol import ConsoleClient
from mcp_console.schemas.logs import MAX_LOG_RESULTS, LogLine, LogQuery

app = typer.Typer(help="Search the kept logs of your deployments.", no_args_is_help=True)

TEXT_HELP = "A substring (any case), /regex/, or either after ! for the lines without it."
FOLLOW_OPTION = typer.Option(False, "--follow", "-f", help="Keep printing new lines as they come.")
LEVEL_OPTION = typer.Option(
    None, "--level", "-l", help="This level and worse: debug, info, warn, error."
)
INSTANCE_OPTION = typer.Option(None, "--instance", "-i", help="Only this instance.")
# A line as people read it; the deployment is left out where the command names it.
Format = Callable[[LogLine], str]


@app.command()
def search(
    text: str | None = typer.Argument(None, help=TEXT_HELP, show_default=False),
    deployment: str | None = typer.Option(
        None, "--deployment", "-d", help="Only this deployment: NAME or OWNER/NAME."
    ),
    instance: str | None = INSTANCE_OPTION,
    level: str | None = LEVEL_OPTION,
    since: str | None = typer.Option(
        None, "--since", help="From this long ago (30m, 1h, 7d) or an ISO 8601 time."
    ),
    until: str | None = typer.Option(
        None, "--until", help="Up to this long ago or an ISO 8601 time."
    ),
    limit: int = typer.Option(100, "--limit", "-n", min=1, max=MAX_LOG_RESULTS),
    follow: bool = FOLLOW_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """The newest matching lines, oldest first; secret values are masked.

    Examples: ``logs search timeout --since 1h``, ``logs search '/took \\d{4,}ms/' -d web``,
    ``logs search '!healthz' --level warn``.
    """
    query = validated(
        LogQuery,
        deployment=deployment,
        instance=instance,
        level=level,
        since=since,
        until=until,
        text=text,
        limit=limit,
    )
    show(query, follow=follow, as_json=as_json, line_format=full_line)


def show(query: LogQuery, *, follow: bool, as_json: bool, line_format: Format) -> None:
    """Print the lines ``query`` finds, oldest first (a JSON array with ``--json``), or
    follow them (one JSON object per line with ``--json``) until interrupted."""
    if follow:
        # Ctrl-C is how a follower stops: no traceback for it.
        with contextlib.suppress(KeyboardInterrupt):
            run(lambda client: _follow(client, query, as_json, line_format))
        return
    lines = list(reversed(run(lambda client: client.search_logs(query))))
    emit(lines, as_json, lambda: _print(lines, line_format))


def full_line(line: LogLine) -> str:
    """``2026-12-07 10:00:01 web i-1 ERROR text`` (local time)."""
    return f"{line.at.astimezone():%Y-%m-%d %H:%M:%S} {line.deployment} {_tail(line)}"


def instance_line(line: LogLine) -> str:
    """A line of one deployment: ``2026-12-07 10:00:01 i-1 ERROR text``."""
    return f"{line.at.astimezone():%Y-%m-%d %H:%M:%S} {_tail(line)}"


def _tail(line: LogLine) -> str:
    return f"{line.instance or '-'} {line.level.value.upper():<5} {line.text}"


def _print(lines: list[LogLine], line_format: Format) -> None:
    for line in lines:
        typer.echo(line_format(line))


async def _follow(
    client: ConsoleClient, query: LogQuery, as_json: bool, line_format: Format
) -> None:
    async for line in client.follow_logs(query):
        sys.stdout.write((line.model_dump_json() if as_json else line_format(line)) + "\n")
        sys.stdout.flush()
