"""Invoice lines rounded to add up to the total, and the printable page escaped and whole."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal

from mcp_console.backend.billing.invoice_export import export
from mcp_console.backend.billing.money import allocate, amount
from mcp_console.schemas.catalog import PriceModel
from mcp_console.schemas.invoices import (
    Invoice,
    InvoiceFormat,
    InvoiceLine,
    InvoiceStatus,
    InvoiceSubject,
)


def test_line_amounts_add_up_to_the_rounded_exact_total_each_within_a_minor_unit() -> None:
    picks = random.Random(11)
    for currency, unit in (
        ("USD", Decimal("0.01")),
        ("JPY", Decimal(1)),
        ("KWD", Decimal("0.001")),
    ):
        for _ in range(300):
            exact = [
                Decimal(picks.randint(0, 10**9)).scaleb(-picks.randint(0, 10))
                for _ in range(picks.randint(1, 9))
            ]
            parts = allocate(exact, currency)
            assert sum(parts) == amount(sum(exact, Decimal(0)), currency)
            assert all(abs(p - e) < unit for p, e in zip(parts, exact, strict=True))
    # Three half cents: 0.015 rounds (half to even) to two cents, to the first two lines.
    assert allocate([Decimal("0.005")] * 3, "USD") == [Decimal("0.01"), Decimal("0.01"), 0]


def test_the_printable_invoice_escapes_every_name_and_fetches_nothing() -> None:
    invoice = Invoice(
        id="INV-202612-U000001",
        month="2026-12",
        status=InvoiceStatus.ISSUED,
        subject_kind=InvoiceSubject.USER,
        subject="<script>alert(1)</script>",
        currency="USD",
        requests=3,
        subtotal=Decimal("0.03"),
        tax=Decimal("0.00"),
        total=Decimal("0.03"),
        issued_at=datetime(2027, 1, 1, 0, 20, tzinfo=UTC),
        start=datetime(2026, 12, 1, tzinfo=UTC),
        end=datetime(2027, 1, 1, tzinfo=UTC),
        lines=[
            InvoiceLine(
                deployment="ann/a&b",
                service='"quoted"',
                tool="<b>",
                model=PriceModel.PAID,
                unit_price=Decimal("0.01"),
                requests=3,
                errors=0,
                free=0,
                charged=3,
                amount=Decimal("0.03"),
            )
        ],
    )

    page = export(invoice, InvoiceFormat.HTML)

    assert "<script>" not in page.content
    assert "&lt;script&gt;" in page.content
    assert "ann/a&amp;b" in page.content
    assert "&lt;b&gt;" in page.content
    assert "src=" not in page.content
    assert "href=" not in page.content
    assert "0.03 USD" in page.content
    assert "issued 2027-01-01 00:20 UTC" in page.content
    assert (page.media_type, page.filename) == ("text/html; charset=utf-8", f"{invoice.id}.html")
    assert Invoice.model_validate_json(export(invoice, InvoiceFormat.JSON).content) == invoice
