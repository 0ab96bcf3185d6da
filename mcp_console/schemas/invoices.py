"""Invoice DTOs: a user's or a team's monthly invoice, its lines, exports and month closes."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from mcp_console.schemas.base import Dto, RequestBody
from mcp_console.schemas.catalog import PriceModel

# ``INV-202612-U000042``: the month, then ``U`` and a user's id or ``T`` and a team's.
INVOICE_ID = re.compile(r"^INV-(\d{4})(\d{2})-([UT])(\d{6,})$")


class InvoiceStatus(StrEnum):
    """A draft is computed on read during its month; an issued invoice never changes."""

    DRAFT = "draft"
    ISSUED = "issued"


class InvoiceSubject(StrEnum):
    """Whom an invoice bills: a user's calls, or the calls of a team's members."""

    USER = "user"
    TEAM = "team"


class InvoiceFormat(StrEnum):
    """How an invoice is exported."""

    JSON = "json"
    CSV = "csv"
    HTML = "html"


def invoice_id(month: str, subject: InvoiceSubject, subject_id: int) -> str:
    """The number of a subject's invoice for ``month`` (``YYYY-MM``): its draft's and, once
    issued, its own."""
    letter = "U" if subject is InvoiceSubject.USER else "T"
    return f"INV-{month.replace('-', '')}-{letter}{subject_id:06d}"


class InvoiceQuery(Dto):
    """The invoices of one calendar month (``YYYY-MM``, UTC; default: this month's drafts).

    ``user``/``team`` narrow them to one user's or one team's; without either, an admin
    reads everyone's and anyone else their own and those of the teams they maintain.
    """

    month: str | None = Field(default=None, max_length=40)
    user: str | None = Field(default=None, max_length=100)
    team: str | None = Field(default=None, max_length=100)


class InvoiceLine(Dto):
    """A deployment's calls at one price, and what they cost.

    Attributes:
        deployment: ``owner/name`` of the deployment called.
        tool: the tool of a line priced per tool (``None``: the service's own price).
        requests: billable calls, failed ones included.
        errors: those that failed (never charged).
        free: successful calls within a free allowance (or at a FREE price).
        charged: successful calls charged at ``unit_price``.
        amount: what the line costs (see ``money.allocate`` for its rounding).
    """

    deployment: str
    service: str
    tool: str | None
    model: PriceModel
    unit_price: Decimal
    requests: int
    errors: int
    free: int
    charged: int
    amount: Decimal


class InvoiceSummary(Dto):
    """An invoice without its lines.

    Attributes:
        id: its number (the same for its draft and, once issued, itself).
        subject: the user's or the team's name.
        subtotal: what its calls cost, rounded once from their exact sum.
        tax: taxes (none are charged: always 0, kept for when they are).
        total: subtotal plus tax.
        issued_at: when its month was closed (``None`` for a draft).
    """

    id: str
    month: str
    status: InvoiceStatus
    subject_kind: InvoiceSubject
    subject: str
    currency: str
    requests: int
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    issued_at: datetime | None


class Invoice(InvoiceSummary):
    """An invoice with its lines, whose amounts add up to ``subtotal`` exactly."""

    start: datetime
    end: datetime
    lines: list[InvoiceLine]


class InvoiceExport(Dto):
    """An invoice written out: ``content`` is the file (JSON, CSV or a printable HTML page)."""

    id: str
    format: InvoiceFormat
    media_type: str
    filename: str
    content: str


EXPORT_MEDIA_TYPES = {
    InvoiceFormat.JSON: "application/json",
    InvoiceFormat.CSV: "text/csv; charset=utf-8",
    InvoiceFormat.HTML: "text/html; charset=utf-8",
}


def invoice_file(number: str, fmt: InvoiceFormat, content: str) -> InvoiceExport:
    """An invoice's export as every transport names it (``INV-….csv``)."""
    return InvoiceExport(
        id=number,
        format=fmt,
        media_type=EXPORT_MEDIA_TYPES[fmt],
        filename=f"{number}.{fmt.value}",
        content=content,
    )


class MonthCloseRequest(RequestBody):
    """A month to close (``YYYY-MM``): its invoices issued now."""

    month: str = Field(max_length=40)


class MonthClose(Dto):
    """A calendar month closed: its invoices issued (``already``: by an earlier close)."""

    month: str
    invoices: int
    closed_at: datetime
    already: bool
