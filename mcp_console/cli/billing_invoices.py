"""``mcp-console billing invoices|invoice|close``: monthly invoices, their files, month close."""

from __future__ import annotations

from pathlib import Path

import typer

from mcp_console.cli.context import JSON_OPTION, emit, reported_errors, run, validated
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.invoices import (
    Invoice,
    InvoiceFormat,
    InvoiceQuery,
    InvoiceSummary,
    MonthClose,
)


def register(app: typer.Typer) -> None:
    """Add the invoice commands to the ``billing`` group."""
    app.command("invoices")(invoices)
    app.command("invoice")(invoice)
    app.command("close")(close)


def invoices(
    month: str | None = typer.Option(
        None, "--month", "-m", help="A calendar month, YYYY-MM (UTC); default: this month."
    ),
    user: str | None = typer.Option(None, "--user", "-u", help="Only this user's invoice."),
    team: str | None = typer.Option(None, "--team", "-t", help="Only this team's invoice."),
    as_json: bool = JSON_OPTION,
) -> None:
    """A month's invoices: drafts until the month is closed, issued after (never changed).
    Yours and those of the teams you maintain (an admin's: everyone's).

    Examples: ``billing invoices``, ``billing invoices --month 2026-11 --team ops --json``.
    """
    with reported_errors():
        query = validated(InvoiceQuery, month=month, user=user, team=team)
    found = run(lambda client: client.billing_invoices(query))
    emit(found, as_json, lambda: _print_invoices(found))


def invoice(
    number: str = typer.Argument(..., help="The invoice's number, e.g. INV-202612-U000042."),
    fmt: InvoiceFormat | None = typer.Option(
        None, "--format", "-f", help="Write it as json, csv or html (a printable page)."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Save it to this file (default: print it)."
    ),
) -> None:
    """One invoice with its lines; with --format, its file (CSV lines add up to the total).

    Examples: ``billing invoice INV-202612-U000042``,
    ``billing invoice INV-202612-U000042 --format html --out invoice.html``.
    """
    if fmt is None and out is not None:
        fmt = _format_of(out)
    if fmt is None:
        shown = run(lambda client: client.billing_invoice(number))
        _print_invoice(shown)
        return
    wanted = fmt
    exported = run(lambda client: client.export_invoice(number, wanted))
    if out is None:
        typer.echo(exported.content, nl=False)
        return
    with reported_errors():
        try:
            out.write_text(exported.content, encoding="utf-8")
        except OSError as error:
            raise Invalid(f"out: cannot write {out}: {error.strerror}", field="out") from None
    typer.echo(f"wrote {out} ({exported.format.value})")


def close(
    month: str = typer.Option(..., "--month", "-m", help="The month to close, YYYY-MM (UTC)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Issue a month's invoices now (admins). Months are closed by themselves once over;
    a closed month stays as it was.

    Example: ``billing close --month 2026-11``.
    """
    closed = run(lambda client: client.close_month(month))
    emit(closed, as_json, lambda: typer.echo(_close_line(closed)))


def _format_of(out: Path) -> InvoiceFormat | None:
    try:
        return InvoiceFormat(out.suffix.removeprefix(".").lower())
    except ValueError:
        return None


def _close_line(closed: MonthClose) -> str:
    if closed.already:
        return f"{closed.month} was closed at {closed.closed_at:%Y-%m-%d %H:%M} UTC already"
    return f"{closed.month} closed: {closed.invoices} invoices issued"


def _print_invoices(found: list[InvoiceSummary]) -> None:
    if not found:
        typer.echo("No invoices: no billable calls that month.")
        return
    width = max(len(i.subject) for i in found)
    for i in found:
        typer.echo(
            f"{i.id}  {i.status.value:<6}  {i.subject_kind.value:<4}  {i.subject:<{width}}  "
            f"{i.requests:>9} calls  {i.total:>12} {i.currency}"
        )


def _print_invoice(shown: Invoice) -> None:
    issued = f"issued {shown.issued_at:%Y-%m-%d %H:%M} UTC" if shown.issued_at else "draft"
    typer.echo(
        f"{shown.id}  {shown.subject_kind.value} {shown.subject}  {shown.month}  {issued}  "
        f"in {shown.currency}"
    )
    for line in shown.lines:
        what = f"{line.service}{' ' + line.tool if line.tool else ''}"
        typer.echo(
            f"  {line.deployment}  {what}  {line.model.value}  {line.unit_price}/call  "
            f"{line.requests} calls, {line.free} free, {line.charged} charged  {line.amount}"
        )
    for label, value in (("subtotal", shown.subtotal), ("tax", shown.tax), ("total", shown.total)):
        typer.echo(f"  {label:<8} {value:>12}")
