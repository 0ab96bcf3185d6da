"""BillingScreen: a period's cost, calls per day, top deployments and tools, revenue, invoices."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane

from mcp_console.messages import BackendEventReceived
from mcp_console.schemas.billing import UsageBreakdown, UsageQuery, UsageReport
from mcp_console.schemas.invoices import Invoice, InvoiceFormat, InvoiceQuery, InvoiceSummary
from mcp_console.schemas.revenue import RevenueQuery
from mcp_console.screens.base import ConsoleContext, ConsoleScreen, describe
from mcp_console.widgets.billing_rows import (
    INVOICE_COLUMNS,
    LINE_COLUMNS,
    QUOTA_COLUMNS,
    REVENUE_COLUMNS,
    Period,
    daily_calls,
    invoice_rows,
    line_rows,
    periods,
    quota_rows,
    revenue_rows,
    summary,
    top_columns,
    top_rows,
)
from mcp_console.widgets.live_table import LiveTable
from mcp_console.widgets.usage_chart import DailyUsage

TABS = ("top", "revenue", "quotas", "invoices")
# A burst of backend events is read once, this long after the last of them.
EVENT_DELAY = 1.0
# Calls are metered without events: the figures are read again this often while shown.
POLL_SECONDS = 30.0


class BillingScreen(ConsoleScreen):
    """What the viewer's calls cost over a period (an admin's: everyone's), the deployments
    and tools behind it, what their own services earned, and their invoices."""

    DEFAULT_CSS = """
    BillingScreen #billing-status {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    BillingScreen #billing-head {
        height: 1fr;
        min-height: 7;
        max-height: 16;
    }
    BillingScreen #billing-summary {
        width: 26;
        padding: 0 1;
        border-top: solid $primary-muted;
        border-title-align: left;
    }
    BillingScreen #billing-tabs {
        height: 2fr;
        min-height: 10;
    }
    BillingScreen TabPane {
        padding: 0;
    }
    BillingScreen .billing-pair LiveTable {
        width: 1fr;
        height: 1fr;
    }
    BillingScreen .billing-note {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    BillingScreen #billing-invoices {
        width: 2fr;
    }
    BillingScreen #billing-lines {
        width: 3fr;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "period(1)", "Period", id="billing-period"),
        Binding("P", "period(-1)", "Period (back)", show=False, id="billing-period-back"),
        Binding("right_square_bracket", "tab(1)", "Next tab", id="next-tab"),
        Binding("left_square_bracket", "tab(-1)", "Prev tab", show=False, id="previous-tab"),
        Binding("e", "export('csv')", "Export CSV", id="invoice-export"),
        Binding("E", "export('html')", "Export HTML", show=False, id="invoice-export-html"),
        Binding("r", "refresh", "Refresh", id="refresh"),
    ]

    HELP_SECTIONS: ClassVar[list[tuple[str, tuple[tuple[str, str], ...]]]] = [
        (
            "Billing",
            (
                ("p / P", "the period: this month, last month, the last 7 or 30 days"),
                ("] / [", "the tabs: top deployments and tools, revenue, quotas, invoices"),
                ("e / E", "save the highlighted invoice as CSV / HTML in the current directory"),
            ),
        )
    ]

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__(context)
        self.title = "Billing"
        self.period_step = 0
        self.usage: UsageReport | None = None
        self.invoices: list[InvoiceSummary] = []
        self.invoice: Invoice | None = None
        self.loads = 0  # completed reads (tests wait on them)
        self.exported: Path | None = None  # the last invoice saved
        self._event_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Reading usage…", id="billing-status")
        with Horizontal(id="billing-head"):
            summary_box = Static("", id="billing-summary")
            summary_box.border_title = "Period total"
            yield summary_box
            yield DailyUsage(id="billing-chart")
        with TabbedContent(id="billing-tabs"):
            with TabPane("Top", id="tab-top"), Horizontal(classes="billing-pair"):
                yield LiveTable(top_columns("Deployment"), id="billing-deployments")
                yield LiveTable(top_columns("Tool"), id="billing-tools")
            with TabPane("Revenue", id="tab-revenue"):
                yield Static("", id="revenue-status", classes="billing-note")
                yield LiveTable(REVENUE_COLUMNS, id="billing-revenue")
            with TabPane("Quotas", id="tab-quotas"), Vertical(id="billing-quotas-pane"):
                yield Static("", id="quotas-status", classes="billing-note")
                yield LiveTable(QUOTA_COLUMNS, id="billing-quotas")
            with TabPane("Invoices", id="tab-invoices"), Vertical(id="billing-invoices-pane"):
                yield Static("", id="invoices-status", classes="billing-note")
                with Horizontal(classes="billing-pair"):
                    yield LiveTable(INVOICE_COLUMNS, id="billing-invoices")
                    yield LiveTable(LINE_COLUMNS, id="billing-lines")
        yield Footer(compact=True)

    def table(self, name: str) -> LiveTable:
        """One of the tables: deployments, tools, revenue, quotas, invoices or lines."""
        return self.query_one(f"#billing-{name}", LiveTable)

    @property
    def period(self) -> Period:
        """The period shown, as ``p`` last set it."""
        return periods(self.context.clock())[self.period_step]

    @property
    def tab(self) -> str:
        """The tab shown: top, revenue, quotas or invoices."""
        return self.query_one(TabbedContent).active.removeprefix("tab-") or TABS[0]

    def on_mount(self) -> None:
        self.table("deployments").focus()
        self.set_interval(POLL_SECONDS, self._tick)
        self.load()

    def _tick(self) -> None:
        if self.is_current:
            self.load()

    def _note(self, selector: str, text: str | Text) -> None:
        self.query_one(selector, Static).update(text)

    # --- reading --------------------------------------------------------------------------

    @work(exclusive=True, group="billing-load", exit_on_error=False)
    async def load(self) -> None:
        """Read the period's usage (by day, deployment and tool), revenue and invoices."""
        period = self.period
        client = self.client

        def usage(by: UsageBreakdown) -> UsageQuery:
            return UsageQuery(by=by, start=period.start, end=period.end)

        try:
            by_day, by_deployment, by_tool = await asyncio.gather(
                client.billing_usage(usage(UsageBreakdown.DAY)),
                client.billing_usage(usage(UsageBreakdown.DEPLOYMENT)),
                client.billing_usage(usage(UsageBreakdown.TOOL)),
            )
        except Exception as error:
            self.loads += 1
            self._note("#billing-status", Text(f"✗ {describe(error)}", style="bold red"))
            self.report(error, "read the usage")
            return
        self.usage = by_day
        self.query_one("#billing-summary", Static).update(summary(by_day))
        self.query_one(DailyUsage).show(daily_calls(by_day))
        self.table("deployments").show(top_rows(by_deployment))
        self.table("tools").show(top_rows(by_tool))
        self._note("#billing-status", f"{period.label} · p: period · ]: tabs · r: refresh")
        await self._load_revenue(period)
        await self._load_quotas()
        await self._load_invoices(period)
        self.loads += 1
        self.refresh_bindings()

    async def _load_revenue(self, period: Period) -> None:
        try:
            report = await self.client.billing_revenue(
                RevenueQuery(start=period.start, end=period.end)
            )
        except Exception as error:
            self.table("revenue").show([])
            self._note("#revenue-status", f"No revenue to show: {describe(error)}")
            return
        self.table("revenue").show(revenue_rows(report))
        if report.rows:
            note = (
                f"What your PAID and FREEMIUM services earned, {period.label}: "
                f"{report.total.earned} {report.currency}"
            )
        else:
            note = "None of your services earned anything in this period."
        self._note("#revenue-status", note)

    async def _load_quotas(self) -> None:
        try:
            quotas = await self.client.list_quotas()
        except Exception as error:
            self.table("quotas").show([])
            self._note("#quotas-status", f"No quotas to show: {describe(error)}")
            return
        self.table("quotas").show(quota_rows(quotas))
        if quotas:
            full = sum(q.percent >= 100 for q in quotas)
            note = f"{len(quotas)} limit(s), their use now"
            if full:
                note += f" · {full} reached: calls under it are refused"
        else:
            note = "No quota or budget limits your calls."
        self._note("#quotas-status", note)

    async def _load_invoices(self, period: Period) -> None:
        try:
            self.invoices = await self.client.billing_invoices(InvoiceQuery(month=period.month))
        except Exception as error:
            self.invoices = []
            self.table("invoices").show([])
            self._note("#invoices-status", f"No invoices to show: {describe(error)}")
            return
        self.table("invoices").show(invoice_rows(self.invoices))
        if self.invoices:
            note = f"Invoices of {period.month} · e / E saves the highlighted one (CSV / HTML)"
        else:
            note = f"No invoices for {period.month}."
        self._note("#invoices-status", note)
        self.load_invoice()

    def selected_invoice(self) -> InvoiceSummary | None:
        """The invoice under the cursor."""
        key = self.table("invoices").highlighted_key
        return next((i for i in self.invoices if i.id == key), None)

    @work(exclusive=True, group="billing-invoice", exit_on_error=False)
    async def load_invoice(self) -> None:
        """Read the highlighted invoice's lines."""
        chosen = self.selected_invoice()
        if chosen is None:
            self.invoice = None
            self.table("lines").show([])
            return
        try:
            invoice = await self.client.billing_invoice(chosen.id)
        except Exception as error:
            self.report(error, f"read invoice {chosen.id}")
            return
        self.invoice = invoice
        self.table("lines").show(line_rows(invoice))

    @on(TabbedContent.TabActivated)
    def _tab_shown(self) -> None:
        self.refresh_bindings()

    @on(DataTable.RowHighlighted, "#billing-invoices")
    def _invoice_highlighted(self) -> None:
        if self.invoice is None or self.invoice.id != self.table("invoices").highlighted_key:
            self.load_invoice()

    def on_backend_event_received(self, _event: BackendEventReceived) -> None:
        if self._event_timer is not None:
            self._event_timer.stop()
        self._event_timer = self.set_timer(EVENT_DELAY, self.load)

    # --- keys -----------------------------------------------------------------------------

    def action_period(self, step: int) -> None:
        self.period_step = (self.period_step + step) % len(periods(self.context.clock()))
        self.load()

    def action_tab(self, step: int) -> None:
        index = (TABS.index(self.tab) + step) % len(TABS)
        self.query_one(TabbedContent).active = f"tab-{TABS[index]}"
        focus = {
            "top": "deployments",
            "revenue": "revenue",
            "quotas": "quotas",
            "invoices": "invoices",
        }
        if TABS[index] in focus:
            self.table(focus[TABS[index]]).focus()
        self.refresh_bindings()

    def action_refresh(self) -> None:
        self.load()

    @work(group="billing-export", exit_on_error=False)
    async def action_export(self, fmt: str) -> None:
        chosen = self.selected_invoice()
        if chosen is None:
            return
        try:
            exported = await self.client.export_invoice(chosen.id, InvoiceFormat(fmt))
            path = Path.cwd() / exported.filename
            await asyncio.to_thread(path.write_text, exported.content, encoding="utf-8")
        except Exception as error:
            self.report(error, f"export invoice {chosen.id}")
            return
        self.exported = path
        self.notify(f"Saved {path}", title=f"Invoice {chosen.id}")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "export":
            return self.tab == "invoices" and self.selected_invoice() is not None
        return True
