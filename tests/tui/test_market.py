"""The market: live search with the filter grammar, paging, sorting, facets, first run."""

from __future__ import annotations

from textual.widgets import Input

from mcp_console.schemas.errors import Unavailable
from mcp_console.screens.market import MarketScreen
from mcp_console.screens.modals.confirm import ConfirmModal
from mcp_console.screens.modals.error import ErrorModal
from mcp_console.widgets.facet_list import FacetList
from mcp_console.widgets.service_table import ServiceTable
from tests.fakes import FakeClient
from tests.tui.helpers import SIZE, console, screen_text, text_of, wait_until
from tests.tui.sample import many_services, sample_catalog, service


def _rows(app_screen: MarketScreen) -> list[str]:
    table = app_screen.query_one(ServiceTable)
    return table.names


async def test_typing_narrows_the_results_live() -> None:
    app = console(FakeClient(sample_catalog()))
    async with app.run_test(size=SIZE) as pilot:
        market = app.screen
        assert isinstance(market, MarketScreen)
        await wait_until(pilot, lambda: len(_rows(market)) == 4, "the first page")
        await pilot.press("slash", *"weath")
        await wait_until(pilot, lambda: _rows(market) == ["acme/weather"], "the narrowed page")
        assert "1 match(es)" in text_of(pilot, "#market-status")


async def test_an_unknown_filter_key_shows_the_backends_reason_inline() -> None:
    app = console(FakeClient(sample_catalog()))
    async with app.run_test(size=SIZE) as pilot:
        market = app.screen
        assert isinstance(market, MarketScreen)
        await wait_until(pilot, lambda: len(_rows(market)) == 4, "the first page")
        await pilot.press("slash", *"tag:api")
        await wait_until(pilot, lambda: len(_rows(market)) == 3, "the tag filter")
        market.search_box.set_query("tag:api colour:red")  # as pasted
        await wait_until(
            pilot, lambda: "unknown filter" in text_of(pilot, "#search-error"), "error"
        )
        error = text_of(pilot, "#search-error")
        assert "'colour:'" in error
        assert "category" in error
        # The last good results stay while the query is being fixed.
        assert len(_rows(market)) == 3
        for _ in " colour:red":
            await pilot.press("backspace")
        await wait_until(pilot, lambda: text_of(pilot, "#search-error") == "", "the error cleared")
        await wait_until(pilot, lambda: len(_rows(market)) == 3, "the tag filter")


async def test_the_table_pages_from_the_backend_one_screenful_at_a_time() -> None:
    client = FakeClient(many_services(500))
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        market = app.screen
        assert isinstance(market, MarketScreen)
        table = market.query_one(ServiceTable)
        await wait_until(pilot, lambda: bool(table.names), "the first page")
        first = _rows(market)
        # A screenful, not the whole catalog.
        assert 10 <= len(first) <= 40
        assert table.pages == -(-500 // len(first))
        table.focus()
        await pilot.press("pagedown")
        await wait_until(pilot, lambda: table.page == 2, "page 2")
        assert _rows(market)[0] == f"svc-{len(first):03d}"
        # Moving up past the first row goes back a page, the cursor on its last row.
        await pilot.press("up")
        await wait_until(pilot, lambda: table.page == 1, "page 1 again")
        assert table.cursor_row == len(first) - 1
        await pilot.press("down")
        await wait_until(pilot, lambda: table.page == 2, "page 2 by moving down")
        assert table.cursor_row == 0
        await pilot.press("ctrl+end")
        await wait_until(pilot, lambda: table.page == table.pages, "the last page")
        assert _rows(market)[-1] == "svc-499"
        assert f"page {table.pages}/{table.pages}" in text_of(pilot, "#market-status")


async def test_an_estimated_total_reads_as_one() -> None:
    app = console(FakeClient(many_services(487), estimate_above=100))
    async with app.run_test(size=SIZE) as pilot:
        market = app.screen
        assert isinstance(market, MarketScreen)
        table = market.query_one(ServiceTable)
        await wait_until(pilot, lambda: bool(table.names), "the first page")
        status = text_of(pilot, "#market-status")
        assert f"about 490 published service(s) · page 1/~{table.pages}" in status
        await pilot.press("slash", *"svc-01")
        await wait_until(pilot, lambda: len(_rows(market)) == 10, "a narrow search")
        assert "10 match(es) · page 1/1" in text_of(pilot, "#market-status")


async def test_paging_past_an_overestimated_end_lands_on_the_real_last_page() -> None:
    app = console(FakeClient(many_services(487), estimate_above=100, overestimate=300))
    async with app.run_test(size=SIZE) as pilot:
        market = app.screen
        assert isinstance(market, MarketScreen)
        table = market.query_one(ServiceTable)
        await wait_until(pilot, lambda: bool(table.names), "the first page")
        estimated_pages = table.pages
        table.focus()
        await pilot.press("ctrl+end")
        await wait_until(pilot, lambda: _rows(market)[-1:] == ["svc-486"], "the real last page")
        assert table.page == table.pages < estimated_pages
        assert f"487 published service(s) · page {table.pages}/{table.pages}" in text_of(
            pilot, "#market-status"
        )


async def test_s_cycles_the_sort_through_the_query() -> None:
    app = console(FakeClient(sample_catalog()))
    async with app.run_test(size=SIZE) as pilot:
        market = app.screen
        assert isinstance(market, MarketScreen)
        await wait_until(pilot, lambda: len(_rows(market)) == 4, "the first page")
        assert _rows(market)[0] == "io.github.octo/github"  # most downloaded first
        market.table.focus()
        await pilot.press("s", "s")  # downloads -> rating -> new
        assert market.search_box.value == "sort:new"
        await wait_until(pilot, lambda: _rows(market)[0] == "acme/weather", "newest first")
        assert "sort: new" in text_of(pilot, "#market-status")


async def test_choosing_a_category_adds_the_filter() -> None:
    app = console(FakeClient(sample_catalog()))
    async with app.run_test(size=SIZE) as pilot:
        market = app.screen
        assert isinstance(market, MarketScreen)
        facets = market.query_one(FacetList)
        await wait_until(pilot, lambda: facets.option_count > 0, "the facets")
        facets.focus()
        index = facets.get_option_index("category:database")
        facets.highlighted = index
        await pilot.press("enter")
        assert market.search_box.value == "category:database"
        await wait_until(pilot, lambda: _rows(market) == ["pg/postgres"], "the category")


async def test_first_run_offers_the_starter_catalog_and_imports_it() -> None:
    client = FakeClient([])
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        market = app.screen
        assert isinstance(market, MarketScreen)
        await wait_until(pilot, lambda: market.catalog_empty, "the empty catalog")
        assert "The catalog is empty" in screen_text(pilot)
        assert "0 published service(s)" in text_of(pilot, "#market-status")
        market.table.focus()
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the offer")
        await pilot.press("y")
        await wait_until(pilot, lambda: len(_rows(market)) == 3, "the imported services")
        assert sorted(_rows(market)) == ["example", "git", "time"]
        assert [d.origin for d in client.imported] == [
            "starter/example.json",
            "starter/git.json",
            "starter/time.json",
        ]
        assert not market.catalog_empty


async def test_a_backend_that_cannot_be_reached_opens_the_error_modal_and_the_app_lives_on() -> (
    None
):
    client = FakeClient(
        sample_catalog(), failures={"search_services": Unavailable("the daemon went away")}
    )
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ErrorModal), "the error modal")
        assert "the daemon went away" in text_of(pilot, "#error-message")
        await pilot.press("escape")
        assert isinstance(app.screen, MarketScreen)
        # Once the backend is back, typing searches again.
        del client.failures["search_services"]
        app.screen.query_one("#search-input", Input).focus()
        await pilot.press("g", "i")  # one letter finds only a whole word, as in the backend
        market = app.screen
        await wait_until(pilot, lambda: len(_rows(market)) >= 1, "results after recovery")


async def test_a_backend_event_refreshes_the_results() -> None:
    client = FakeClient(sample_catalog())
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        market = app.screen
        assert isinstance(market, MarketScreen)
        await wait_until(pilot, lambda: len(_rows(market)) == 4, "the first page")
        client.services["new/one"] = service("new/one", downloads=10**6, index=9)
        client.emit({"type": "service.published", "service": "new/one"})
        await wait_until(pilot, lambda: _rows(market)[:1] == ["new/one"], "the refresh")
