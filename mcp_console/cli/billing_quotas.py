"""``mcp-console billing quota set|list|rm``: limits on billable calls and how much is used."""

from __future__ import annotations

from decimal import Decimal

import typer

from mcp_console.cli.context import (
    JSON_OPTION,
    emit,
    read_decimal,
    reported_errors,
    run,
    validated,
)
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.quotas import QuotaKind, QuotaPeriod, QuotaScope, QuotaSet, QuotaView

quotas = typer.Typer(help="Quotas, budgets and rate limits on billable calls.")


def register(app: typer.Typer) -> None:
    """Add ``quota`` to the ``billing`` group."""
    app.add_typer(quotas, name="quota", no_args_is_help=True)


@quotas.command("set")
def set_quota(
    user: str | None = typer.Option(None, "--user", "-u", help="Limit this user's calls."),
    team: str | None = typer.Option(None, "--team", "-t", help="Limit a team's calls together."),
    key: str | None = typer.Option(
        None, "--key", "-k", help="Limit one API key's calls (its prefix, or your key's name)."
    ),
    deployment: str | None = typer.Option(
        None, "--deployment", "-d", help="Limit every call to a deployment (NAME or OWNER/NAME)."
    ),
    requests: int | None = typer.Option(None, "--requests", help="Billable requests allowed."),
    spend: str | None = typer.Option(
        None, "--spend", help="Spend allowed, in the billing currency."
    ),
    rate: str | None = typer.Option(None, "--rate", help="Calls per second to each tool."),
    per: QuotaPeriod | None = typer.Option(
        None, "--per", help="day or month for requests (default month); month for spend."
    ),
    tool: str | None = typer.Option(None, "--tool", help="A rate limit for this tool only."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Set a limit (or a new figure for an existing one); calls over it are refused with a
    JSON-RPC error naming the limit, its use and when it resets, and are not billed.

    Examples: ``billing quota set --user bob --requests 10000 --per month``,
    ``billing quota set --team ml --spend 250 --per month``,
    ``billing quota set --deployment weather --rate 5 --tool forecast``.
    """
    with reported_errors():
        scope, subject = _subject(user, team, key, deployment)
        kind, allowed = _figure(requests, spend, rate)
        period = (
            per
            or {
                QuotaKind.REQUESTS: QuotaPeriod.MONTH,
                QuotaKind.SPEND: QuotaPeriod.MONTH,
                QuotaKind.RATE: QuotaPeriod.SECOND,
            }[kind]
        )
        quota = validated(
            QuotaSet,
            scope=scope,
            subject=subject,
            kind=kind,
            period=period,
            allowed=allowed,
            tool=tool,
        )
    view = run(lambda client: client.set_quota(quota))
    emit(view, as_json, lambda: typer.echo(quota_line(view)))


@quotas.command("list")
def list_quotas(as_json: bool = JSON_OPTION) -> None:
    """The quotas over your calls and those you may set, with their use now."""
    views = run(lambda client: client.list_quotas())
    emit(views, as_json, lambda: _print(views))


@quotas.command("rm")
def remove_quota(quota_id: int = typer.Argument(..., help="The quota's id (see list).")) -> None:
    """Remove a limit."""
    run(lambda client: client.remove_quota(quota_id))
    typer.echo(f"quota {quota_id} removed")


def _subject(
    user: str | None, team: str | None, key: str | None, deployment: str | None
) -> tuple[QuotaScope, str]:
    given = [
        (scope, value)
        for scope, value in (
            (QuotaScope.USER, user),
            (QuotaScope.TEAM, team),
            (QuotaScope.KEY, key),
            (QuotaScope.DEPLOYMENT, deployment),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise Invalid("name one of --user, --team, --key or --deployment", field="subject")
    return given[0]


def _figure(requests: int | None, spend: str | None, rate: str | None) -> tuple[QuotaKind, Decimal]:
    given = [
        (kind, value)
        for kind, value in (
            (QuotaKind.REQUESTS, requests),
            (QuotaKind.SPEND, spend),
            (QuotaKind.RATE, rate),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise Invalid("give one of --requests, --spend or --rate", field="allowed")
    kind, value = given[0]
    return kind, Decimal(value) if isinstance(value, int) else read_decimal(value, "allowed")


def quota_line(view: QuotaView) -> str:
    """One quota as a line: whose, what, how much of it is used."""
    unit = f" {view.currency}" if view.currency else ""
    tool = f" ({view.tool})" if view.tool else ""
    if view.kind is QuotaKind.RATE:
        use = f"{view.allowed:f} calls/s per tool{tool}"
    else:
        resets = f", resets {view.resets_at:%Y-%m-%d %H:%M}Z" if view.resets_at else ""
        use = (
            f"{view.used.normalize():f}/{view.allowed:f}{unit} {view.kind.value} per "
            f"{view.period.value} ({view.percent:.0f} %{resets})"
        )
    return f"#{view.id:<4} {view.scope.value} {view.subject}: {use}"


def _print(views: list[QuotaView]) -> None:
    if not views:
        typer.echo("no quotas")
    for view in views:
        typer.echo(quota_line(view))
