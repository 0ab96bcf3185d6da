"""``mcp-console audit …``: the trail of changes and tool calls, listed or exported."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

from mcp_console.cli.context import JSON_OPTION, emit, run, validated
from mcp_console.client.protocol import ConsoleClient
from mcp_console.schemas.audit import MAX_AUDIT_RESULTS, AuditEntry, AuditQuery

app = typer.Typer(
    help="The audit trail: every change (who, when, what, from where) and every tool call.",
    no_args_is_help=True,
)

SINCE_OPTION = typer.Option(
    None, "--since", help="From this long ago (30m, 1h, 7d) or an ISO 8601 time."
)
UNTIL_OPTION = typer.Option(None, "--until", help="Up to this long ago or an ISO 8601 time.")
USER_OPTION = typer.Option(None, "--user", "-u", help="Only what this user (or controller) did.")
KIND_OPTION = typer.Option(
    None, "--kind", "-k", help="A kind (deployment.scaled, tool.call) or a group (deployment)."
)
DEPLOYMENT_OPTION = typer.Option(
    None, "--deployment", "-d", help="Only about this deployment: NAME or OWNER/NAME."
)
EXPORT_PAGE = 1000


@app.command("list")
def list_events(
    since: str | None = SINCE_OPTION,
    until: str | None = UNTIL_OPTION,
    user: str | None = USER_OPTION,
    kind: str | None = KIND_OPTION,
    deployment: str | None = DEPLOYMENT_OPTION,
    limit: int = typer.Option(100, "--limit", "-n", min=1, max=MAX_AUDIT_RESULTS),
    as_json: bool = JSON_OPTION,
) -> None:
    """The newest events, newest first: yours and those about your deployments (an admin's:
    everyone's).

    Examples: ``audit list --since 1h``, ``audit list --kind deployment -d web``,
    ``audit list --user bob --kind tool.call --json``.
    """
    query = validated(
        AuditQuery,
        since=since,
        until=until,
        user=user,
        kind=kind,
        deployment=deployment,
        limit=limit,
    )
    events = run(lambda client: client.audit_events(query))
    emit(events, as_json, lambda: _print(events))


@app.command("export")
def export_events(
    since: str | None = SINCE_OPTION,
    until: str | None = UNTIL_OPTION,
    user: str | None = USER_OPTION,
    kind: str | None = KIND_OPTION,
    deployment: str | None = DEPLOYMENT_OPTION,
) -> None:
    """Every matching event as JSON lines (one object a line, newest first), for other
    tools: ``audit export --since 30d > audit.jsonl``."""
    query = validated(
        AuditQuery,
        since=since,
        until=until,
        user=user,
        kind=kind,
        deployment=deployment,
        limit=EXPORT_PAGE,
    )
    run(lambda client: _export(client, query))


async def _export(client: ConsoleClient, query: AuditQuery) -> None:
    while True:
        page = await client.audit_events(query)
        for entry in page:
            sys.stdout.write(entry.model_dump_json() + "\n")
        if len(page) < query.limit:
            return
        query = query.model_copy(update={"before_id": page[-1].id})


def line(entry: AuditEntry) -> str:
    """``2026-12-07 10:00:01 alice via api deployment.scaled web replicas=2`` (local time)."""
    at = f"{entry.at.astimezone():%Y-%m-%d %H:%M:%S}"
    via = f" via {entry.via}" if entry.via else ""
    where = (
        f" on {entry.deployment}" if entry.deployment and entry.deployment != entry.target else ""
    )
    detail = " ".join(f"{key}={_value(value)}" for key, value in entry.detail.items())
    return f"{at} {entry.actor}{via} {entry.kind} {entry.target or '-'}{where} {detail}".rstrip()


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    # A tool call's redacted arguments as they were given (their masks too), on one line.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _print(events: list[AuditEntry]) -> None:
    if not events:
        typer.echo("No audit events match.")
    for entry in events:
        typer.echo(line(entry))
