"""Snapshots of the Billing section: this month's cost, calls per day and top deployments and
tools, an author's revenue and the month's invoices with their lines, at 80x24 and 200x60
(fake client, frozen clock). Update them with ``pytest tests/snapshots --snapshot-update``
after a deliberate change, and look at the report."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from mcp_console.screens.billing import BillingScreen
from tests.tui.helpers import console, wait_until
from tests.tui.sample_billing import billed_client

Compare = Callable[..., bool]
SMALL = (80, 24)
HUGE = (200, 60)


def _billing(tabs: int = 0) -> Callable[[Pilot[None]], object]:
    async def steps(pilot: Pilot[None]) -> None:
        app = pilot.app
        await pilot.press("escape", "6")
        await wait_until(pilot, lambda: isinstance(app.screen, BillingScreen), "billing")
        screen = app.screen
        assert isinstance(screen, BillingScreen)
        await wait_until(pilot, lambda: screen.loads >= 1, "the figures")
        for _ in range(tabs):
            await pilot.press("right_square_bracket")
        if tabs == 3:
            await wait_until(pilot, lambda: screen.invoice is not None, "the invoice's lines")
        await pilot.pause(0.3)

    return steps


def test_billing_this_month(snap_compare: Compare) -> None:
    assert snap_compare(console(billed_client()), terminal_size=SMALL, run_before=_billing())


def test_billing_this_month_200x60(snap_compare: Compare) -> None:
    assert snap_compare(console(billed_client()), terminal_size=HUGE, run_before=_billing())


def test_billing_revenue(snap_compare: Compare) -> None:
    assert snap_compare(console(billed_client()), terminal_size=SMALL, run_before=_billing(1))


def test_billing_quotas(snap_compare: Compare) -> None:
    assert snap_compare(console(billed_client()), terminal_size=SMALL, run_before=_billing(2))


def test_billing_invoices(snap_compare: Compare) -> None:
    assert snap_compare(console(billed_client()), terminal_size=SMALL, run_before=_billing(3))


def test_billing_invoices_200x60(snap_compare: Compare) -> None:
    assert snap_compare(console(billed_client()), terminal_size=HUGE, run_before=_billing(3))
