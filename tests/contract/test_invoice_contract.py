"""Invoices answer alike through every client: the same figures, files and refusals."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from mcp_console.backend.billing.periods import month_start
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.errors import Forbidden, Invalid, NotFound
from mcp_console.schemas.invoices import (
    InvoiceFormat,
    InvoiceQuery,
    InvoiceStatus,
)
from mcp_console.schemas.users import Role
from tests.billing.invoice_world import this_months_calls
from tests.contract.conftest import Clients


async def test_a_new_user_has_no_invoices_and_bad_input_is_refused_naming_it(
    clients: Clients,
) -> None:
    alice = await clients.user("alice", Role.USER)
    await clients.user("bob", Role.USER)
    admin = await clients.admin()

    assert await alice.billing_invoices(InvoiceQuery()) == []
    with pytest.raises(Forbidden):
        await alice.billing_invoices(InvoiceQuery(user="bob"))
    with pytest.raises(Forbidden):
        await alice.close_month("2026-01")
    with pytest.raises(NotFound) as nobody:
        await admin.billing_invoices(InvoiceQuery(user="nobody"))
    assert nobody.value.field == "user"
    for month in ("2026-13", "last month", "2999-01"):
        with pytest.raises(Invalid) as bad_month:
            await alice.billing_invoices(InvoiceQuery(month=month))
        assert bad_month.value.field == "month"
    with pytest.raises(Invalid) as bad_id:
        await alice.billing_invoice("12")
    assert bad_id.value.field == "id"
    with pytest.raises(Invalid) as open_month:
        await admin.close_month(f"{datetime.now(UTC):%Y-%m}")
    assert open_month.value.field == "month"


@pytest.mark.not_modelled_by_fake("FakeClient meters no calls: its invoices are set by tests")
async def test_every_client_reads_the_same_invoice_figures_and_files(
    clients: Clients, runtime: Runtime
) -> None:
    alice = await clients.user("alice", Role.USER)
    admin = await clients.admin()
    number = await this_months_calls(runtime, await alice.whoami())
    now = datetime.now(UTC)

    listed = await alice.billing_invoices(InvoiceQuery())
    shown = await alice.billing_invoice(number)
    exported = await alice.export_invoice(number, InvoiceFormat.CSV)
    page = await alice.export_invoice(number, InvoiceFormat.HTML)
    previous = f"{month_start(now) - timedelta(hours=1):%Y-%m}"
    closed = await admin.close_month(previous)
    again = await admin.close_month(previous)

    assert [(i.id, i.status, i.subject, i.requests, i.total) for i in listed] == [
        (number, InvoiceStatus.DRAFT, "alice", 7, Decimal("0.09"))  # 7 x 0.0125 = 0.0875
    ]
    assert [(line.deployment, line.unit_price, line.amount) for line in shown.lines] == [
        ("admin/paid", Decimal("0.0125"), Decimal("0.09"))
    ]
    assert (shown.total, shown.currency, shown.issued_at) == (Decimal("0.09"), "USD", None)
    rows = list(csv.DictReader(io.StringIO(exported.content)))
    assert [(r["row"], r["amount"]) for r in rows] == [
        ("line", "0.09"),
        ("subtotal", "0.09"),
        ("tax", "0.00"),
        ("total", "0.09"),
    ]
    assert (exported.filename, exported.media_type) == (f"{number}.csv", "text/csv; charset=utf-8")
    assert page.content.startswith("<!DOCTYPE html>")
    assert (closed.month, closed.invoices, closed.already, again.already) == (
        previous,
        0,
        False,
        True,
    )
