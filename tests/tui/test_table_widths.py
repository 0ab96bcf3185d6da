"""Tables share the terminal's width: names whole while there is room, long text cut with an
ellipsis, minor columns hidden on a narrow terminal, all of it following a resize."""

from __future__ import annotations

from textual.pilot import Pilot

from mcp_console.screens.market import MarketScreen
from mcp_console.widgets.columns import Column, fit_widths
from mcp_console.widgets.live_table import LiveTable
from mcp_console.widgets.service_table import ServiceTable
from tests.fakes import FakeClient
from tests.tui.helpers import console, open_deployments, wait_until
from tests.tui.sample import starter_like_catalog
from tests.tui.sample_deployments import live_client


def table_lines(table: ServiceTable) -> list[str]:
    """What the market's table shows, line by line (the header first)."""
    return [table.render_line(y).text for y in range(table.size.height)]


async def _market(pilot: Pilot[None]) -> ServiceTable:
    market = pilot.app.screen
    assert isinstance(market, MarketScreen)
    await wait_until(pilot, lambda: market.last_page is not None, "the first page")
    await pilot.pause(0.1)
    return market.table


async def test_the_market_at_100_columns_shows_names_whole_and_fills_the_width() -> None:
    app = console(FakeClient(starter_like_catalog()))
    async with app.run_test(size=(100, 24)) as pilot:
        table = await _market(pilot)
        lines = table_lines(table)
        header, rows = lines[0], lines[1:4]
        assert header.split() == ["Service", "Category", "Rating", "Downloads", "Price", "Status"]
        example = next(row for row in rows if "Example" in row)
        assert example.split()[:3] == ["Example", "server", "developer-tools"]
        assert not any("…" in line for line in lines)
        # The last column ends at the table's right edge: no empty half.
        assert len(header.rstrip()) >= table.size.width - 4


async def test_the_market_columns_follow_the_terminal_width() -> None:
    app = console(FakeClient(starter_like_catalog()))
    async with app.run_test(size=(100, 24)) as pilot:
        table = await _market(pilot)
        at_100 = table.widths()[0]
        await pilot.resize_terminal(160, 30)
        await pilot.pause(0.2)
        assert table.widths()[0] > at_100
        assert len(table_lines(table)[0].rstrip()) >= table.size.width - 4

        # Narrower than every column's room: the names stay whole, the category is cut.
        await pilot.press("escape", "b")  # the browse list takes 26 of 80 columns
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.2)
        lines = table_lines(table)
        assert table.size.width < 60
        assert any("Example server" in line for line in lines)
        assert lines[0].split()[-1] == "Price"  # status (published, as the status line says) goes
        assert all(len(line) <= table.size.width for line in lines)


async def _deployments(pilot: Pilot[None]) -> LiveTable:
    screen = await open_deployments(pilot)
    await pilot.pause(0.1)
    return screen.table


def _cells(table: LiveTable, key: str) -> list[str]:
    return [str(cell) for cell in table.get_row(key)]


async def test_the_deployments_at_80_columns_show_the_owner_whole_and_never_scroll_sideways() -> (
    None
):
    app = console(live_client())
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _deployments(pilot)
        shown = table.visible_columns
        assert shown == [
            "Deployment",
            "Status",
            "Version",
            "Ready",
            "Req/s",
            "Errors",
            "Service",
            "Owner",
        ]
        assert table.virtual_size.width <= table.size.width
        github = dict(zip(shown, _cells(table, "github"), strict=True))
        assert github["Owner"] == "admin"
        assert github["Status"] == "◌ DEPLOYING"
        assert github["Service"].endswith("…")  # io.github.octo/github, cut to fit
        assert "io.github.o" in github["Service"]

        await pilot.resize_terminal(120, 30)
        await pilot.pause(0.2)
        assert table.visible_columns[-3:] == ["Runtime", "Owner", "Updated"]
        wide = dict(zip(table.visible_columns, _cells(table, "github"), strict=True))
        assert wide["Service"] == "io.github.octo/github"
        assert table.highlighted_key is not None

        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.2)
        assert table.visible_columns == shown
        assert table.virtual_size.width <= table.size.width


def test_room_goes_first_to_what_is_short_and_growing_columns_take_the_rest() -> None:
    columns = [
        Column("Name", least=4, grow=True),
        Column("Kind", least=4),
        Column("State", cut=False, hide=1),
    ]
    # Everything fits: each shows whole, the growing name takes the rest.
    assert fit_widths(columns, [10, 6, 5], 40, 2) == [10 + 13, 6, 5]
    # Short of room: the short column shows whole, the long one is cut.
    assert fit_widths(columns, [20, 6, 5], 30, 2) == [13, 6, 5]
    # Not even the least widths fit: the state column is hidden.
    assert fit_widths(columns, [20, 6, 5], 14, 2) == [5, 5, 0]
    # Hiding a wide column makes room for a narrow one hidden before it.
    hiding = [
        Column("Name", least=4),
        Column("Narrow", cut=False, hide=1),
        Column("Wide", cut=False, hide=2),
    ]
    assert fit_widths(hiding, [4, 6, 20], 20, 2) == [4, 6, 0]
