"""The Billing section on the real backend: the month's metered calls priced, the author's
revenue from them and the caller's draft invoice, all the same figure."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from mcp_console.backend.runtime import Runtime
from mcp_console.client.local import LocalClient
from mcp_console.schemas.catalog import PriceModel
from mcp_console.screens.billing import BillingScreen
from tests.billing.helpers import call, deployment, meter, service
from tests.tui.helpers import SIZE, console, text_of, wait_until
from tests.tui.sample import NOW


async def test_cost_revenue_and_invoice_agree_on_the_real_backend(runtime: Runtime) -> None:
    admin = runtime.local_admin
    assert admin is not None
    paid = await service(runtime, admin, "acme/paid", PriceModel.PAID, Decimal("0.0125"))
    dep = await deployment(runtime, paid, admin, "paid")
    when = NOW - timedelta(days=5)
    await meter(runtime, [call(dep, admin, when)] * 7 + [call(dep, admin, when, error=True)])
    app = console(LocalClient(runtime, admin))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape", "6")
        await wait_until(pilot, lambda: isinstance(app.screen, BillingScreen), "billing")
        screen = app.screen
        assert isinstance(screen, BillingScreen)
        await wait_until(pilot, lambda: screen.loads > 0, "the figures", seconds=30)
        await wait_until(pilot, lambda: screen.invoice is not None, "the invoice's lines")
        await pilot.pause(0.1)

        # 7 served calls at 0.0125 (0.0875), the failed one free: 0.09 everywhere.
        assert text_of(pilot, "#billing-summary").split("\n")[:2] == [
            "Cost  0.09 USD",
            "Calls  8",
        ]
        assert screen.table("deployments").keys == ["admin/paid"]
        revenue = screen.table("revenue")
        assert [str(c) for c in revenue.get_row("acme/paid")][-1] == "0.09"
        assert [i.total for i in screen.invoices] == [Decimal("0.09")]
        assert screen.invoice is not None
        assert screen.invoice.lines[0].charged == 7
