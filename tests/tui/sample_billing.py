"""A sample month of billing (usage by day, deployment and tool, an author's revenue, two
invoices with their lines) for the Billing section's tests and snapshots."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from mcp_console.schemas.billing import UsageBreakdown, UsageRow
from mcp_console.schemas.catalog import PriceModel
from mcp_console.schemas.invoices import (
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    InvoiceSubject,
)
from mcp_console.schemas.quotas import QuotaKind, QuotaPeriod, QuotaScope, QuotaSet
from mcp_console.schemas.revenue import RevenueBreakdown, RevenueRow
from tests.fakes import FakeClient
from tests.tui.sample import NOW

MONTH = f"{NOW:%Y-%m}"


def _row(key: str, requests: int, cost: str, *, service: str | None = None) -> UsageRow:
    errors = requests // 50
    free = requests // 10
    return UsageRow(
        key=key,
        service=service,
        requests=requests,
        errors=errors,
        free=free,
        charged=requests - errors - free,
        cost=Decimal(cost),
    )


# Calls per day of the month so far: quiet weekends, a busy week before the frozen clock.
DAILY: tuple[int, ...] = (120, 180, 0, 0, 240, 260, 310, 280, 300, 40, 35, 420, 460)
DAILY += (510, 530, 480, 60, 50, 700, 760, 820, 790, 880, 120, 400)


def _invoice(number: str, subject: str, kind: InvoiceSubject, lines: list[InvoiceLine]) -> Invoice:
    subtotal = sum((line.amount for line in lines), Decimal("0.00"))
    return Invoice(
        id=number,
        month=MONTH,
        status=InvoiceStatus.DRAFT,
        subject_kind=kind,
        subject=subject,
        currency="USD",
        requests=sum(line.requests for line in lines),
        subtotal=subtotal,
        tax=Decimal("0.00"),
        total=subtotal,
        issued_at=None,
        start=NOW.replace(day=1, hour=0),
        end=NOW.replace(day=1, hour=0) + timedelta(days=30),
        lines=lines,
    )


def _line(
    deployment: str, service: str, tool: str | None, price: str, requests: int, free: int = 0
) -> InvoiceLine:
    charged = requests - free
    return InvoiceLine(
        deployment=deployment,
        service=service,
        tool=tool,
        model=PriceModel.FREEMIUM if free else PriceModel.PAID,
        unit_price=Decimal(price),
        requests=requests,
        errors=0,
        free=free,
        charged=charged,
        amount=(Decimal(price) * charged).quantize(Decimal("0.01")),
    )


def billed_client() -> FakeClient:
    """The admin's month: three deployments and their tools, two services of their own that
    earned, three limits (one reached, one past 80 %), and a draft invoice for them and one
    for their team."""
    client = FakeClient()
    days = [
        _row(
            f"{NOW.replace(day=1) + timedelta(days=i):%Y-%m-%d}",
            calls,
            str((Decimal(calls) * Decimal("0.007")).quantize(Decimal("0.01"))),
        )
        for i, calls in enumerate(DAILY)
        if calls
    ]
    client.billing.rows = {
        UsageBreakdown.DAY: days,
        UsageBreakdown.DEPLOYMENT: [
            _row("admin/github", 6420, "64.20"),
            _row("admin/weather", 3800, "7.60"),
            _row("maria/search", 1205, "0.00"),
        ],
        UsageBreakdown.TOOL: [
            _row("search_code", 4100, "41.00", service="acme/github"),
            _row("create_issue", 2320, "23.20", service="acme/github"),
            _row("forecast", 3800, "7.60", service="acme/weather"),
            _row("query", 1205, "0.00", service="acme/search"),
        ],
    }
    client.billing.revenue_rows = {
        "admin": {
            RevenueBreakdown.SERVICE: [
                RevenueRow(
                    key="acme/github",
                    requests=8800,
                    errors=12,
                    free=0,
                    charged=8788,
                    earned=Decimal("87.88"),
                ),
                RevenueRow(
                    key="acme/weather",
                    requests=5400,
                    errors=0,
                    free=1000,
                    charged=4400,
                    earned=Decimal("8.80"),
                ),
            ]
        }
    }
    limits = [
        (QuotaScope.USER, "admin", QuotaKind.REQUESTS, QuotaPeriod.MONTH, "20000", "8745"),
        (QuotaScope.TEAM, "crew", QuotaKind.SPEND, QuotaPeriod.MONTH, "80", "69.8"),
        (QuotaScope.DEPLOYMENT, "admin/github", QuotaKind.REQUESTS, QuotaPeriod.DAY, "400", "400"),
    ]
    for scope, subject, kind, per, allowed, used in limits:
        quota = QuotaSet(scope=scope, subject=subject, kind=kind, period=per, allowed=allowed)
        client.quotas.used[client.quotas.set(client.me, quota).id] = Decimal(used)
    client.invoices.invoices = [
        _invoice(
            f"INV-{NOW:%Y%m}-U000001",
            "admin",
            InvoiceSubject.USER,
            [
                _line("admin/github", "acme/github", "search_code", "0.01", 4100),
                _line("admin/github", "acme/github", None, "0.01", 2320),
                _line("admin/weather", "acme/weather", None, "0.002", 3800, free=1000),
            ],
        ),
        _invoice(
            f"INV-{NOW:%Y%m}-T000002",
            "crew",
            InvoiceSubject.TEAM,
            [_line("maria/search", "acme/search", None, "0.001", 1205)],
        ),
    ]
    return client
