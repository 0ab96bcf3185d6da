"""An invoice written out: JSON, CSV (lines, then subtotal, tax, total) or a printable page."""

from __future__ import annotations

import csv
import io
from html import escape

from mcp_console.schemas.invoices import Invoice, InvoiceExport, InvoiceFormat, invoice_file

CSV_COLUMNS = (
    "row",
    "deployment",
    "service",
    "tool",
    "model",
    "unit_price",
    "requests",
    "errors",
    "free",
    "charged",
    "amount",
    "currency",
)


def export(invoice: Invoice, fmt: InvoiceFormat) -> InvoiceExport:
    """``invoice`` as a file of format ``fmt``."""
    writers = {InvoiceFormat.JSON: _json, InvoiceFormat.CSV: _csv, InvoiceFormat.HTML: _html}
    return invoice_file(invoice.id, fmt, writers[fmt](invoice))


def _json(invoice: Invoice) -> str:
    return invoice.model_dump_json(indent=2) + "\n"


def _csv(invoice: Invoice) -> str:
    """One ``line`` row per line, then ``subtotal``, ``tax`` and ``total`` rows: the amounts
    of the ``line`` rows add up to the ``subtotal``'s."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for line in invoice.lines:
        writer.writerow(
            [
                "line",
                line.deployment,
                line.service,
                line.tool or "",
                line.model.value,
                line.unit_price,
                line.requests,
                line.errors,
                line.free,
                line.charged,
                line.amount,
                invoice.currency,
            ]
        )
    blank = [""] * (len(CSV_COLUMNS) - 3)
    for name, value in (
        ("subtotal", invoice.subtotal),
        ("tax", invoice.tax),
        ("total", invoice.total),
    ):
        writer.writerow([name, *blank, value, invoice.currency])
    return out.getvalue()


_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #111; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
table { border-collapse: collapse; width: 100%; margin-top: 1em; }
th, td { border-bottom: 1px solid #ccc; padding: 0.3em 0.5em; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tfoot td { font-weight: bold; border-bottom: none; }
.meta { color: #444; }
@media print { body { margin: 0; } }
"""


def _html(invoice: Invoice) -> str:
    """A page with nothing to fetch (its style inline), every value escaped."""

    def cell(value: object, numeric: bool = False) -> str:
        return (
            f'<td class="n">{escape(str(value))}</td>'
            if numeric
            else f"<td>{escape(str(value))}</td>"
        )

    rows = "\n".join(
        "<tr>"
        + cell(line.deployment)
        + cell(line.service)
        + cell(line.tool or "")
        + cell(line.model.value)
        + cell(line.unit_price, True)
        + cell(line.requests, True)
        + cell(line.free, True)
        + cell(line.charged, True)
        + cell(line.amount, True)
        + "</tr>"
        for line in invoice.lines
    )
    currency = escape(invoice.currency)
    issued = (
        f"issued {invoice.issued_at:%Y-%m-%d %H:%M} UTC"
        if invoice.issued_at
        else "draft: the month is not closed yet"
    )
    foot = "\n".join(
        f'<tr><td colspan="8">{label}</td><td class="n">{escape(str(value))} {currency}</td></tr>'
        for label, value in (
            ("Subtotal", invoice.subtotal),
            ("Tax", invoice.tax),
            ("Total", invoice.total),
        )
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Invoice {escape(invoice.id)}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>Invoice {escape(invoice.id)}</h1>
<p class="meta">{escape(invoice.subject_kind.value.capitalize())} {escape(invoice.subject)} ·
{escape(invoice.month)} ({invoice.start:%Y-%m-%d} to {invoice.end:%Y-%m-%d} UTC) ·
{escape(issued)} · amounts in {currency}</p>
<table>
<thead><tr><th>Deployment</th><th>Service</th><th>Tool</th><th>Model</th>
<th class="n">Unit price</th><th class="n">Calls</th><th class="n">Free</th>
<th class="n">Charged</th><th class="n">Amount</th></tr></thead>
<tbody>
{rows}
</tbody>
<tfoot>
{foot}
</tfoot>
</table>
</body>
</html>
"""
