"""FakeInvoices: invoices in memory for FakeClient, refused and exported by the backend's rules."""

from __future__ import annotations

from datetime import UTC, datetime

from mcp_console.backend.billing.invoice_build import month_label, read_month
from mcp_console.backend.billing.invoice_export import export
from mcp_console.backend.billing.periods import next_month
from mcp_console.schemas.errors import Forbidden, Invalid, NotFound, revalidated
from mcp_console.schemas.invoices import (
    INVOICE_ID,
    Invoice,
    InvoiceExport,
    InvoiceFormat,
    InvoiceQuery,
    InvoiceStatus,
    InvoiceSummary,
    MonthClose,
)
from mcp_console.schemas.users import Principal


class FakeInvoices:
    """The invoices tests put in ``invoices``; a user reads those billed to them by name."""

    def __init__(self) -> None:
        self.invoices: list[Invoice] = []
        self.closed: set[str] = set()

    def list(self, me: Principal, query: InvoiceQuery, known: bool) -> list[InvoiceSummary]:
        """``known``: whether the user named (if any) exists."""
        query = revalidated(query)
        now = datetime.now(UTC)
        first = read_month(query.month) if query.month else read_month(f"{now:%Y-%m}")
        if first > now:
            raise Invalid(f"month {month_label(first)} has not begun", field="month")
        if query.user and query.team:
            raise Invalid("give a user or a team, not both", field="team")
        if query.user and not known:
            raise NotFound(f"no user named {query.user!r}", field="user")
        if query.user and query.user != me.name and not me.is_admin:
            raise Forbidden(f"{me.name} may read their own invoices, not {query.user}'s")
        if query.team and not me.is_admin:
            raise Forbidden(f"only the maintainers of team {query.team} and admins read it")
        return [
            InvoiceSummary.model_validate(i.model_dump())
            for i in self.invoices
            if i.month == month_label(first)
            and (me.is_admin or i.subject == me.name)
            and (query.user is None or i.subject == query.user)
            and (query.team is None or i.subject == query.team)
        ]

    def get(self, me: Principal, number: str) -> Invoice:
        found = INVOICE_ID.match(number.strip())
        if found is None:
            raise Invalid(f"id {number!r} is not an invoice number", field="id")
        read_month(f"{found[1]}-{found[2]}")
        invoice = next((i for i in self.invoices if i.id == number.strip()), None)
        if invoice is None:
            raise NotFound(f"no invoice {number.strip()}", field="id")
        if not me.is_admin and invoice.subject != me.name:
            raise Forbidden(f"{me.name} may read their own invoices, not this one")
        return invoice

    def export(self, me: Principal, number: str, fmt: InvoiceFormat) -> InvoiceExport:
        return export(self.get(me, number), fmt)

    def close(self, me: Principal, month: str) -> MonthClose:
        if not me.is_admin:
            raise Forbidden("only an admin closes a month and issues its invoices")
        first = read_month(month)
        now = datetime.now(UTC)
        if next_month(first) > now:
            raise Invalid(f"month {month_label(first)} is not over", field="month")
        label = month_label(first)
        already = label in self.closed
        self.closed.add(label)
        issued = [
            i.model_copy(update={"status": InvoiceStatus.ISSUED, "issued_at": i.issued_at or now})
            for i in self.invoices
            if i.month == label
        ]
        self.invoices = [i for i in self.invoices if i.month != label] + issued
        return MonthClose(month=label, invoices=len(issued), closed_at=now, already=already)
