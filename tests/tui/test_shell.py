"""The shell: `:` command line, `?` help, the palette, `/`, number keys, `esc` and `q`."""

from __future__ import annotations

from textual.command import CommandList, CommandPalette
from textual.widgets import Input

from mcp_console.screens.developer import DeveloperScreen
from mcp_console.screens.help import HelpScreen
from mcp_console.screens.market import MarketScreen
from mcp_console.screens.modals.command_line import CommandLine
from mcp_console.screens.service_detail import ServiceDetailScreen
from tests.fakes import FakeClient
from tests.tui.helpers import SIZE, console, screen_text, text_of, wait_until
from tests.tui.sample import sample_catalog


async def test_the_command_line_jumps_to_a_screen_by_name_and_explains_unknown_names() -> None:
    app = console(FakeClient(sample_catalog()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape", "colon")
        assert isinstance(app.screen, CommandLine)
        await pilot.press(*"nowhere", "enter")
        error = text_of(pilot, "#command-error")
        assert "no screen or command called 'nowhere'" in error
        assert "market" in error
        app.screen.query_one("#command-input", Input).value = ""
        await pilot.press(*"dev", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DeveloperScreen), "dev")
        assert app.current_mode == "dev"
        await pilot.press("colon", *":market", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, MarketScreen), "the market")
        await pilot.press("colon", *"q", "enter")
        assert app.return_code == 0 or not app.is_running


async def test_help_lists_the_keys_of_the_screen_it_was_opened_on() -> None:
    app = console(FakeClient(sample_catalog()))
    async with app.run_test(size=SIZE) as pilot:
        app.open_service("acme/weather")
        await wait_until(pilot, lambda: isinstance(app.screen, ServiceDetailScreen), "detail")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_screen = app.screen
        local = {text: key for key, text in help_screen.keys}
        assert local["Review"] == "r"
        assert local["Deploy"] == "d"
        everywhere = {text: key for key, text in help_screen.global_keys}
        assert everywhere["Quit"] == "q"
        assert everywhere["Go to"] == ":"
        assert "sort:relevance" in screen_text(pilot)
        await pilot.press("escape")
        assert isinstance(app.screen, ServiceDetailScreen)


async def test_the_palette_offers_sections_screen_actions_and_live_service_matches() -> None:
    app = console(FakeClient(sample_catalog()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"go to dev")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DeveloperScreen), "dev")

        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"postgres")
        hits = app.screen.query_one(CommandList)
        await wait_until(
            pilot,
            lambda: any("Open Postgres" in str(o.prompt) for o in hits.options),
            "a live service match",
        )
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ServiceDetailScreen), "detail")
        detail = app.screen
        assert isinstance(detail, ServiceDetailScreen)
        assert detail.service_name == "pg/postgres"


async def test_number_keys_slash_and_escape_move_between_sections() -> None:
    app = console(FakeClient(sample_catalog()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape", "4")
        await wait_until(pilot, lambda: isinstance(app.screen, DeveloperScreen), "dev")
        await pilot.press("1")
        assert isinstance(app.screen, MarketScreen)
        app.open_service("team/slack")
        await wait_until(pilot, lambda: isinstance(app.screen, ServiceDetailScreen), "detail")
        await pilot.press("slash")  # the detail has no filter: the market's search takes it
        assert isinstance(app.screen, MarketScreen)
        assert app.screen.query_one("#search-input", Input).has_focus
        await pilot.press("escape", "q")
        assert not app.is_running
