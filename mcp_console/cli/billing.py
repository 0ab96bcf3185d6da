"""``mcp-console billing …``: prices of services over time, and usage priced and grouped."""

from __future__ import annotations

from datetime import datetime

import typer

from mcp_console.cli.billing_invoices import register as register_invoices
from mcp_console.cli.billing_metering import register as register_metering
from mcp_console.cli.billing_quotas import register as register_quotas
from mcp_console.cli.context import (
    JSON_OPTION,
    emit,
    read_decimal,
    reported_errors,
    run,
    validated,
)
from mcp_console.schemas.billing import (
    PriceSet,
    PriceView,
    UsageBreakdown,
    UsageQuery,
    UsageReport,
)
from mcp_console.schemas.catalog import PriceModel
from mcp_console.schemas.errors import Invalid, revalidated
from mcp_console.schemas.revenue import RevenueBreakdown, RevenueQuery, RevenueReport

app = typer.Typer(
    help="Billing: the prices of services over time, and usage priced at them.",
    no_args_is_help=True,
)
register_invoices(app)
prices = typer.Typer(help="A service's prices: per call, per tool, free allowances.")
app.add_typer(prices, name="price", no_args_is_help=True)
register_quotas(app)
register_metering(app)


@app.command("usage")
def usage(
    by: UsageBreakdown = typer.Option(
        UsageBreakdown.SERVICE,
        "--by",
        "-b",
        help="Group by user, team, deployment, service, tool, key, day or month.",
    ),
    start: str | None = typer.Option(
        None,
        "--from",
        help="A month (2026-12), a day, an ISO 8601 time or a duration back (7d); "
        "default: the start of this month.",
    ),
    end: str | None = typer.Option(
        None, "--to", help="As --from; a month or a day is included whole. Default: now."
    ),
    user: str | None = typer.Option(None, "--user", "-u", help="Only this user's calls."),
    team: str | None = typer.Option(None, "--team", "-t", help="Only this team's members' calls."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Billable calls and what they cost, each at the price of its hour: yours, your teams'
    members' where you maintain the team (an admin's: everyone's).

    Examples: ``billing usage``, ``billing usage --by day --from 2026-12-01 --to 2026-12-07``,
    ``billing usage --by tool --user bob --json``.
    """
    with reported_errors():
        query = validated(UsageQuery, by=by, start=start, end=end, user=user, team=team)
    report = run(lambda client: client.billing_usage(query))
    emit(report, as_json, lambda: _print_usage(report))


@app.command("revenue")
def revenue(
    by: RevenueBreakdown = typer.Option(
        RevenueBreakdown.SERVICE, "--by", "-b", help="Group by service, version or month."
    ),
    start: str | None = typer.Option(
        None, "--from", help="As for usage; default: the start of this month."
    ),
    end: str | None = typer.Option(
        None, "--to", help="As --from; a month or a day is included whole. Default: now."
    ),
    author: str | None = typer.Option(
        None, "--author", "-a", help="Whose services (an admin's choice; default: yours)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """What your PAID and FREEMIUM services earned: exactly what their callers were charged.

    Examples: ``billing revenue``, ``billing revenue --by month --from 2026-01``,
    ``billing revenue --by version --author ann --json``.
    """
    with reported_errors():
        query = validated(RevenueQuery, by=by, start=start, end=end, author=author)
    report = run(lambda client: client.billing_revenue(query))
    emit(report, as_json, lambda: _print_revenue(report))


@prices.command("set")
def set_price(
    service: str = typer.Argument(..., help="The service's name."),
    per_call: str = typer.Option(..., "--per-call", help="The price of one call (0: free)."),
    tool: str | None = typer.Option(None, "--tool", help="Price only this tool's calls."),
    free: int = typer.Option(
        0, "--free", help="Calls per user per calendar month that cost nothing (FREEMIUM)."
    ),
    start: str | None = typer.Option(
        None, "--from", help="A whole hour (UTC unless it says) in the future; default: the next."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Price a service's calls (or one tool's) from a whole hour on; calls before keep theirs.

    Examples: ``billing price set weather --per-call 0.002``,
    ``billing price set weather --per-call 0.002 --free 1000 --from 2027-01-01T00:00``,
    ``billing price set weather --tool forecast --per-call 0.01``.
    """
    set_service_price(service, per_call, tool=tool, free=free, start=start, as_json=as_json)


def set_service_price(
    service: str,
    per_call: str,
    *,
    tool: str | None,
    free: int,
    start: str | None,
    as_json: bool,
    model: PriceModel | None = None,
) -> None:
    """Set a price through the client and print it (``billing price set``, ``catalog price``)."""
    with reported_errors():
        # Built as ``validated`` builds a request (whose first parameter is named model).
        price = revalidated(
            PriceSet.model_construct(
                per_call=read_decimal(per_call, "per_call"),
                tool=tool,
                free_requests=free,
                model=model,
                effective_from=_time(start, "effective_from") if start else None,
            )
        )
    view = run(lambda client: client.set_price(service, price))
    emit(view, as_json, lambda: typer.echo(_price_line(view)))


@prices.command("list")
def list_prices(
    service: str = typer.Argument(..., help="The service's name."),
    as_json: bool = JSON_OPTION,
) -> None:
    """A service's prices by tool and then time (the catalog's first, until replaced)."""
    views = run(lambda client: client.list_prices(service))
    emit(views, as_json, lambda: typer.echo("\n".join(_price_line(v) for v in views)))


def _time(text: str, field: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(
            f"{field}: {text!r} is not an ISO 8601 time such as 2027-01-01T00:00", field=field
        ) from None


def _price_line(view: PriceView) -> str:
    """``weather  forecast  PAID  0.01 USD/call  from 2027-01-01 00:00 UTC  by alice``."""
    free = f"  {view.free_requests} free/user/month" if view.free_requests else ""
    who = f"  by {view.set_by}" if view.set_by else "  (catalog)"
    return (
        f"{view.service}  {view.tool or '*'}  {view.model.value}  {view.per_call} "
        f"{view.currency}/call{free}  from {view.effective_from:%Y-%m-%d %H:%M} UTC{who}"
    )


def _print_usage(report: UsageReport) -> None:
    typer.echo(
        f"Usage by {report.by.value}, {report.start:%Y-%m-%d %H:%M} to "
        f"{report.end:%Y-%m-%d %H:%M} UTC, in {report.currency}"
    )
    if not report.rows:
        typer.echo("No billable calls.")
        return
    width = max(len(_label(r.key, r.service)) for r in report.rows)
    typer.echo(
        f"{'':<{width}}  {'calls':>9}  {'errors':>7}  {'free':>9}  {'charged':>9}  {'cost':>12}"
    )
    for row in [*report.rows, report.total]:
        typer.echo(
            f"{_label(row.key, row.service):<{width}}  {row.requests:>9}  {row.errors:>7}  "
            f"{row.free:>9}  {row.charged:>9}  {row.cost:>12}"
        )


def _label(key: str, service: str | None) -> str:
    return f"{service} {key}" if service else key


def _print_revenue(report: RevenueReport) -> None:
    typer.echo(
        f"Revenue of {report.author}'s services by {report.by.value}, "
        f"{report.start:%Y-%m-%d %H:%M} to {report.end:%Y-%m-%d %H:%M} UTC, in {report.currency}"
    )
    if not report.rows:
        typer.echo("No calls at a PAID or FREEMIUM price.")
        return
    width = max(len(_label(r.key, r.service)) for r in report.rows)
    typer.echo(f"{'':<{width}}  {'calls':>9}  {'free':>9}  {'charged':>9}  {'earned':>12}")
    for row in [*report.rows, report.total]:
        typer.echo(
            f"{_label(row.key, row.service):<{width}}  {row.requests:>9}  {row.free:>9}  "
            f"{row.charged:>9}  {row.earned:>12}"
        )
