"""The Billing section (6, :billing): a period's cost and calls per day, the deployments and
tools that cost most, an author's revenue, invoices with their lines, saved as files."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from rich.text import Text
from textual.pilot import Pilot

from mcp_console.schemas.errors import Forbidden, Unavailable
from mcp_console.schemas.users import Role, UserCreate
from mcp_console.screens.billing import BillingScreen
from mcp_console.screens.logs import LogsScreen
from mcp_console.screens.modals.command_line import CommandLine
from mcp_console.screens.modals.error import ErrorModal
from mcp_console.widgets.usage_chart import DailyUsage
from tests.tui.helpers import SIZE, console, text_of, wait_until
from tests.tui.sample_billing import DAILY, billed_client

SMALL = (80, 24)


async def _billing(pilot: Pilot[None], key: str = "6") -> BillingScreen:
    app = pilot.app
    await pilot.press("escape", key)
    await wait_until(pilot, lambda: isinstance(app.screen, BillingScreen), "the billing view")
    screen = app.screen
    assert isinstance(screen, BillingScreen)
    await wait_until(pilot, lambda: screen.loads > 0, "the first figures")
    await pilot.pause(0.1)
    return screen


async def _reload(pilot: Pilot[None], screen: BillingScreen, *keys: str) -> None:
    loads = screen.loads
    await pilot.press(*keys)
    await wait_until(pilot, lambda: screen.loads > loads, f"the figures after {keys}")
    await pilot.pause(0.1)


async def test_this_months_cost_calls_per_day_and_what_cost_most() -> None:
    app = console(billed_client())
    async with app.run_test(size=SMALL) as pilot:
        screen = await _billing(pilot)
        status = text_of(pilot, "#billing-status")
        totals = text_of(pilot, "#billing-summary").split("\n")
        chart = screen.query_one(DailyUsage)
        deployments = screen.table("deployments")
        tools = screen.table("tools")

        assert status.startswith("this month (2026-11)")
        cost = sum((Decimal(c) * Decimal("0.007")).quantize(Decimal("0.01")) for c in DAILY)
        assert totals[:2] == [f"Cost  {cost} USD", f"Calls  {sum(DAILY):,}"]
        # Every day of the month so far, the quiet ones too, in order.
        assert len(chart.days) == 25
        assert chart.days[2] == ("2026-11-03", 0)
        assert chart.days[-1] == ("2026-11-25", 400)
        assert deployments.keys == ["admin/github", "admin/weather", "maria/search"]
        assert [str(c) for c in deployments.get_row("admin/github")] == [
            "admin/github",
            "6,420",
            "64.20",
        ]
        assert tools.keys[0] == "acme/github search_code"


async def test_p_steps_through_the_periods_and_asks_for_each() -> None:
    client = billed_client()
    app = console(client)
    async with app.run_test(size=SMALL) as pilot:
        screen = await _billing(pilot)
        asked = client.calls.count("billing_usage")
        await _reload(pilot, screen, "p")
        assert text_of(pilot, "#billing-status").startswith("last month (2026-10)")
        # The invoices follow the period's month: there are none for October.
        assert text_of(pilot, "#invoices-status") == "No invoices for 2026-10."
        assert screen.invoices == []
        await _reload(pilot, screen, "p")
        assert text_of(pilot, "#billing-status").startswith("last 7 days")
        await _reload(pilot, screen, "p", "p")
        assert text_of(pilot, "#billing-status").startswith("this month")
        assert len(screen.invoices) == 2
        await _reload(pilot, screen, "P")
        assert text_of(pilot, "#billing-status").startswith("last 30 days")
        # Each period read the usage by day, deployment and tool again.
        assert client.calls.count("billing_usage") == asked + 5 * 3


async def test_an_author_sees_what_their_services_earned() -> None:
    app = console(billed_client())
    async with app.run_test(size=SMALL) as pilot:
        screen = await _billing(pilot)
        await pilot.press("right_square_bracket")
        await pilot.pause(0.1)
        assert screen.tab == "revenue"
        revenue = screen.table("revenue")
        assert revenue.keys[:2] == ["acme/github", "acme/weather"]
        assert [str(c) for c in revenue.get_row(revenue.keys[-1])][-1] == "96.68"
        assert text_of(pilot, "#revenue-status").endswith(": 96.68 USD")


async def test_quotas_show_their_use_as_bars_the_fullest_first() -> None:
    app = console(billed_client())
    async with app.run_test(size=SIZE) as pilot:
        screen = await _billing(pilot)
        await pilot.press("right_square_bracket", "right_square_bracket")
        await pilot.pause(0.1)
        assert screen.tab == "quotas"
        quotas = screen.table("quotas")
        rows = [[str(c) for c in quotas.get_row(key)] for key in quotas.keys]
        assert [row[0] for row in rows] == ["deployment admin/github", "team crew", "user admin"]
        assert rows[0][2] == "██████████ 100%"
        assert rows[1][2] == "█████████░  87%"
        assert rows[2][2] == "████░░░░░░  44%"
        assert [row[1] for row in rows] == ["calls/day", "spend/month", "calls/month"]
        assert [row[3] for row in rows] == ["400 / 400", "69.80 / 80.00 USD", "8,745 / 20,000"]
        assert text_of(pilot, "#quotas-status").endswith("1 reached: calls under it are refused")
        # The fullest bar is red, past 80 % yellow.
        bars = [quotas.get_row(key)[2] for key in quotas.keys]
        assert [str(bar.style) for bar in bars if isinstance(bar, Text)] == [
            "red",
            "yellow",
            "green",
        ]


async def test_a_user_without_services_is_told_they_earned_nothing() -> None:
    client = billed_client()
    key = client.users.create(client.me, UserCreate(name="maria", role=Role.USER)).api_key
    maria = client.authenticate(key)
    app = console(client.acting_as(maria))
    async with app.run_test(size=SMALL) as pilot:
        screen = await _billing(pilot)
        assert screen.table("revenue").keys == []
        assert text_of(pilot, "#revenue-status") == (
            "None of your services earned anything in this period."
        )
        # maria's invoices only: none of the sample's is hers.
        assert screen.invoices == []


async def test_invoices_show_their_lines_and_save_as_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = console(billed_client())
    async with app.run_test(size=SMALL) as pilot:
        screen = await _billing(pilot)
        await pilot.press("right_square_bracket", "right_square_bracket", "right_square_bracket")
        await wait_until(pilot, lambda: screen.tab == "invoices", "the invoices tab")
        invoices = screen.table("invoices")
        lines = screen.table("lines")
        assert invoices.keys == ["INV-202611-U000001", "INV-202611-T000002"]
        await wait_until(pilot, lambda: len(lines.keys) == 6, "the first invoice's lines")
        assert [str(c) for c in lines.get_row(lines.keys[-1])][-2:] == ["", "69.80"]
        await pilot.press("down")
        await wait_until(
            pilot,
            lambda: screen.invoice is not None and screen.invoice.subject == "crew",
            "the team's invoice",
        )
        assert len(lines.keys) == 4  # one line, subtotal, tax, total
        await pilot.press("up", "e")
        await wait_until(pilot, lambda: screen.exported is not None, "the saved invoice")
        saved_at = screen.exported
        assert saved_at == tmp_path / "INV-202611-U000001.csv"
        with saved_at.open(newline="") as saved:
            rows = list(csv.DictReader(saved))
        amounts = [Decimal(r["amount"]) for r in rows if r["row"] == "line"]
        assert sum(amounts) == Decimal("69.80")


async def test_export_is_offered_only_on_the_invoices_tab() -> None:
    app = console(billed_client())
    async with app.run_test(size=SMALL) as pilot:
        screen = await _billing(pilot)
        assert screen.check_action("export", ("csv",)) is False
        await pilot.press("e")
        await pilot.pause(0.1)
        assert screen.exported is None


async def test_a_backend_event_reads_the_figures_again() -> None:
    client = billed_client()
    app = console(client)
    async with app.run_test(size=SMALL) as pilot:
        screen = await _billing(pilot)
        loads = screen.loads
        client.billing.rows[next(iter(client.billing.rows))].clear()
        client.emit({"type": "price.set", "service": "acme/github"})
        await wait_until(pilot, lambda: screen.loads > loads, "the figures again")
        assert text_of(pilot, "#billing-summary").startswith("Cost  0.00 USD")


async def test_a_backend_out_of_reach_is_shown_and_r_reads_again() -> None:
    client = billed_client()
    client.failures["billing_usage"] = Unavailable("the daemon went away")
    app = console(client)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("escape", "6")
        await wait_until(pilot, lambda: isinstance(app.screen, ErrorModal), "the error")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, BillingScreen), "the view")
        screen = app.screen
        assert isinstance(screen, BillingScreen)
        assert "the daemon went away" in text_of(pilot, "#billing-status")
        del client.failures["billing_usage"]
        await _reload(pilot, screen, "r")
        assert text_of(pilot, "#billing-status").startswith("this month")


async def test_revenue_refused_leaves_the_rest_shown() -> None:
    client = billed_client()
    client.failures["billing_revenue"] = Forbidden("this key is limited to some deployments")
    app = console(client)
    async with app.run_test(size=SMALL) as pilot:
        screen = await _billing(pilot)
        assert screen.table("deployments").keys
        assert text_of(pilot, "#revenue-status") == (
            "No revenue to show: this key is limited to some deployments"
        )


async def test_colon_billing_opens_it_and_logs_moved_to_8() -> None:
    app = console(billed_client())
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("escape", "colon")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandLine), "the prompt")
        await pilot.press(*"billing", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, BillingScreen), ":billing")
        await pilot.press("8")
        await wait_until(pilot, lambda: isinstance(app.screen, LogsScreen), "the logs on 8")
