"""The Billing section's figures as rows: periods, cost summary, top usage, revenue, invoices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from rich.text import Text

from mcp_console.schemas.billing import UsageReport, UsageRow
from mcp_console.schemas.invoices import Invoice, InvoiceStatus, InvoiceSummary
from mcp_console.schemas.quotas import QuotaKind, QuotaView
from mcp_console.schemas.revenue import RevenueReport
from mcp_console.widgets.columns import Column
from mcp_console.widgets.live_table import Row

# How many deployments and tools the top tables list (the CLI lists them all).
TOP = 10


@dataclass(frozen=True)
class Period:
    """A period the section shows, as a usage query names it, and the month of its invoices."""

    label: str
    start: str
    end: str
    month: str


def _month(at: datetime) -> str:
    return f"{at:%Y-%m}"


def periods(now: datetime) -> tuple[Period, ...]:
    """The periods ``p`` steps through: this month, last month, the last 7 and 30 days."""
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last_month = first - timedelta(days=1)
    until = now.isoformat()
    return (
        Period(f"this month ({_month(now)})", _month(now), until, _month(now)),
        Period(
            f"last month ({_month(last_month)})",
            _month(last_month),
            _month(last_month),
            _month(last_month),
        ),
        Period("last 7 days", (now - timedelta(days=7)).isoformat(), until, _month(now)),
        Period("last 30 days", (now - timedelta(days=30)).isoformat(), until, _month(now)),
    )


def money(value: Decimal, currency: str) -> str:
    """``12.34 USD``."""
    return f"{value} {currency}"


def summary(report: UsageReport) -> Text:
    """What the period cost and the calls behind it, for the summary box."""
    total = report.total
    text = Text()
    text.append("Cost  ", style="dim")
    text.append(money(total.cost, report.currency), style="bold")
    text.append("\nCalls  ", style="dim")
    text.append(f"{total.requests:,}")
    text.append("\nCharged  ", style="dim")
    text.append(f"{total.charged:,}")
    text.append("\nFree  ", style="dim")
    text.append(f"{total.free:,}")
    text.append("\nFailed  ", style="dim")
    text.append(f"{total.errors:,}", style="red" if total.errors else "")
    return text


def daily_calls(report: UsageReport) -> list[tuple[str, int]]:
    """Calls per day over the report's whole period, days without calls as 0."""
    by_day = {row.key: row.requests for row in report.rows}
    day = report.start.replace(hour=0)
    days: list[tuple[str, int]] = []
    while day < report.end:
        key = f"{day:%Y-%m-%d}"
        days.append((key, by_day.get(key, 0)))
        day += timedelta(days=1)
    return days


def top_columns(label: str) -> tuple[Column, ...]:
    """The columns of a top table: what it ranks (``label``), its calls and their cost."""
    return (
        Column(label, "name", least=8, grow=True),
        Column("Calls", "calls", justify="right", cut=False),
        Column("Cost", "cost", justify="right", cut=False),
    )


def _label(row: UsageRow) -> str:
    return f"{row.service} {row.key}" if row.service else row.key


def top_rows(report: UsageReport) -> list[Row]:
    """The groups that cost most (then the most called), at most ``TOP`` of them."""
    ranked = sorted(report.rows, key=lambda r: (-r.cost, -r.requests, _label(r)))
    return [(_label(r), (_label(r), f"{r.requests:,}", str(r.cost))) for r in ranked[:TOP]]


REVENUE_COLUMNS = (
    Column("Service", "service", least=8, grow=True),
    Column("Calls", "calls", justify="right", cut=False),
    Column("Free", "free", justify="right", cut=False, hide=2),
    Column("Charged", "charged", justify="right", cut=False, hide=1),
    Column("Earned", "earned", justify="right", cut=False),
)


def revenue_rows(report: RevenueReport) -> list[Row]:
    """An author's earnings by service, and their total."""
    rows: list[Row] = [
        (
            r.key,
            (r.key, f"{r.requests:,}", f"{r.free:,}", f"{r.charged:,}", str(r.earned)),
        )
        for r in report.rows
    ]
    if report.rows:
        t = report.total
        rows.append(
            (
                "\x00total",
                (
                    Text("total", style="bold"),
                    f"{t.requests:,}",
                    f"{t.free:,}",
                    f"{t.charged:,}",
                    Text(str(t.earned), style="bold"),
                ),
            )
        )
    return rows


INVOICE_COLUMNS = (
    Column("Invoice", "id", cut=False),
    Column("For", "subject", least=6, most=16, hide=2),
    Column("Status", "status", cut=False, hide=1),
    Column("Total", "total", justify="right", cut=False),
)

_STATUS_STYLE = {InvoiceStatus.DRAFT: "yellow", InvoiceStatus.ISSUED: "green"}


def invoice_rows(invoices: Sequence[InvoiceSummary]) -> list[Row]:
    """The month's invoices, each with its status and total."""
    return [
        (
            i.id,
            (
                i.id,
                i.subject,
                Text(i.status.value.lower(), style=_STATUS_STYLE.get(i.status, "")),
                str(i.total),
            ),
        )
        for i in invoices
    ]


LINE_COLUMNS = (
    Column("Deployment", "deployment", least=8, most=24, hide=3),
    Column("Service / tool", "what", least=10, grow=True),
    Column("Calls", "calls", justify="right", cut=False),
    Column("Free", "free", justify="right", cut=False, hide=1),
    Column("Price", "price", justify="right", cut=False, hide=2),
    Column("Amount", "amount", justify="right", cut=False),
)


def line_rows(invoice: Invoice) -> list[Row]:
    """An invoice's lines, then its subtotal, tax and total."""
    rows: list[Row] = []
    for index, line in enumerate(invoice.lines):
        what = f"{line.service} {line.tool}" if line.tool else line.service
        rows.append(
            (
                str(index),
                (
                    line.deployment,
                    what,
                    f"{line.requests:,}",
                    f"{line.free:,}",
                    f"{line.unit_price.normalize():f}",
                    str(line.amount),
                ),
            )
        )
    for key, value, style in (
        ("subtotal", invoice.subtotal, ""),
        ("tax", invoice.tax, "dim"),
        ("total", invoice.total, "bold"),
    ):
        rows.append(
            (f"\x00{key}", ("", Text(key, style=style), "", "", "", Text(str(value), style=style)))
        )
    return rows


QUOTA_COLUMNS = (
    Column("Limit", "limit", least=16, most=40, grow=True),
    Column("Per", "per", least=10, most=24, hide=3),
    Column("Use", "bar", cut=False),
    Column("Used / allowed", "figures", justify="right", least=12, most=26, hide=2),
    Column("Resets", "resets", cut=False, hide=1),
)
# Cells of a quota's bar; the colour follows the alerts' thresholds (80 % and 100 %).
BAR_CELLS = 10


def use_bar(percent: float) -> Text:
    """``███████░░░  70%``: green, yellow from 80 %, red from 100 %."""
    filled = min(BAR_CELLS, max(0, round(percent / 100 * BAR_CELLS)))
    style = "red" if percent >= 100 else "yellow" if percent >= 80 else "green"
    bar = Text("█" * filled, style=style)
    bar.append("░" * (BAR_CELLS - filled), style="dim")
    bar.append(f" {percent:>3.0f}%", style=f"bold {style}" if percent >= 80 else "")
    return bar


def _figure(value: Decimal, kind: QuotaKind) -> str:
    if kind is QuotaKind.SPEND:
        return str(value.quantize(Decimal("0.01")))
    return f"{value.normalize():,f}" if value == value.to_integral_value() else f"{value:f}"


def quota_rows(quotas: Sequence[QuotaView]) -> list[Row]:
    """Each limit with a bar of its use now (the calls in flight counted with it)."""
    rows: list[Row] = []
    for q in sorted(quotas, key=lambda q: (-q.percent, q.id)):
        what = {QuotaKind.REQUESTS: "calls", QuotaKind.SPEND: "spend", QuotaKind.RATE: "calls"}
        tool = f" · {q.tool}" if q.tool else ""
        resets = f"{q.resets_at:%m-%d %H:%M}" if q.resets_at else "—"
        rows.append(
            (
                str(q.id),
                (
                    f"{q.scope.value} {q.subject}",
                    f"{what[q.kind]}/{q.period.value}{tool}",
                    use_bar(q.percent),
                    f"{_figure(q.used, q.kind)} / {_figure(q.allowed, q.kind)}"
                    + (f" {q.currency}" if q.kind is QuotaKind.SPEND and q.currency else ""),
                    resets,
                ),
            )
        )
    return rows
