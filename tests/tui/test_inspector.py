"""The inspector, by keyboard: pick a deployment, fill a tool's form, call it, read the answer."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input, OptionList, Select, Static

from mcp_console.app import ConsoleApp
from mcp_console.screens.developer import DeveloperScreen
from mcp_console.screens.inspector import InspectorScreen
from mcp_console.widgets.rpc_view import ExchangeView
from tests.fakes import FakeClient
from tests.tui.fake_inspector import running
from tests.tui.helpers import SIZE, console, plain, text_of, wait_until
from tests.tui.sample import sample_catalog


def _client() -> FakeClient:
    client = FakeClient(sample_catalog())
    running(client.deploys, "acme/weather", "weather", secrets={"API_KEY": "k"})
    running(client.deploys, "io.github.octo/github", "github")
    client.deploys.stop("github")
    return client


async def _open(pilot: Pilot[None], app: ConsoleApp) -> InspectorScreen:
    await pilot.press("escape", "4")  # out of the market's search box, to the console
    await wait_until(pilot, lambda: isinstance(app.screen, DeveloperScreen), "the console")
    await pilot.press("i")
    await wait_until(pilot, lambda: isinstance(app.screen, InspectorScreen), "the inspector")
    screen = app.screen
    assert isinstance(screen, InspectorScreen)
    await wait_until(pilot, lambda: screen.loaded, "the deployments")
    return screen


def _focus(screen: InspectorScreen) -> Widget | None:
    """Where the cursor is (a call, so that each check reads it afresh)."""
    return screen.focused


async def _pick(pilot: Pilot[None], screen: InspectorScreen, downs: int) -> None:
    """Open the picker with enter and choose the ``downs``-th deployment."""
    assert _focus(screen) is screen.picker
    await pilot.press("enter", *["down"] * downs, "enter")


async def test_call_a_tool_from_its_generated_form_and_read_the_answer() -> None:
    client = _client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app)
        await _pick(pilot, screen, 1)
        await wait_until(pilot, lambda: screen.inspected is not None, "weather's tools")
        tools = screen.query_one("#tool-list", OptionList)
        assert _focus(screen) is tools
        assert [str(tools.get_option_at_index(i).id) for i in range(tools.option_count)] == [
            "forecast",
            "alerts",
            "stations",
        ]
        assert "3 tools, 1 resource, 1 prompt" in text_of(pilot, "#inspector-status")

        # The required argument is marked; nothing reaches the server.
        await pilot.press("enter")  # into forecast's form
        place = screen.query_one("#cfg-0", Input)
        assert _focus(screen) is place
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "required" in text_of(pilot, "#cfg-0-error"), "the mark")
        assert "place" in text_of(pilot, "#cfg-0-error")
        assert client.inspector.calls == []

        # Typed text becomes the schema's types; the enum is a select.
        await pilot.press(*"Oslo", "enter")  # enter moves to the next field
        assert _focus(screen) is screen.query_one("#cfg-1", Input)
        await pilot.press("backspace", "2", "tab")
        units = screen.query_one("#cfg-2", Select)
        assert _focus(screen) is units
        await pilot.press("enter", "down", "down", "enter")  # blank, metric, imperial
        assert units.value == "imperial"
        await pilot.press("ctrl+s")
        result = screen.pane.result
        await wait_until(pilot, lambda: "answered" in plain(result), "the answer")
        assert "Oslo: 4 °C, 2 °C" in plain(result)
        assert '"highs"' in plain(result)
        assert client.inspector.calls == [
            ("weather", "forecast", {"place": "Oslo", "days": 2, "units": "imperial"})
        ]
        assert not screen.query_one("#cfg-0-error", Static).has_class("-shown")

        # The raw exchange: what was sent and what came back.
        await pilot.press("escape", "x")
        exchange = plain(screen.query_one(ExchangeView))
        assert "tools/call forecast: 4 message(s)" in exchange
        assert "→ sent" in exchange
        assert "← received" in exchange
        assert '"arguments"' in exchange
        assert '"Oslo"' in exchange

        await pilot.press("escape")
        assert isinstance(app.screen, DeveloperScreen)


async def test_a_wrong_argument_is_marked_and_a_tool_error_is_shown_as_such() -> None:
    client = _client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app)
        await _pick(pilot, screen, 1)
        await wait_until(pilot, lambda: screen.inspected is not None, "weather's tools")
        await pilot.press("enter", *"Atlantis", "enter", "backspace", *"42", "ctrl+s")
        await wait_until(pilot, lambda: "maximum" in text_of(pilot, "#cfg-1-error"), "the mark")
        assert "'days'" in text_of(pilot, "#cfg-1-error")
        assert _focus(screen) is screen.query_one("#cfg-1", Input)
        assert client.inspector.calls == []

        await pilot.press("backspace", "backspace", "1", "ctrl+s")
        result = screen.pane.result
        await wait_until(pilot, lambda: "reported an error" in plain(result), "the tool error")
        assert "unknown place 'Atlantis'" in plain(result)
        assert client.inspector.calls == [("weather", "forecast", {"place": "Atlantis", "days": 1})]


async def test_a_deployment_that_cannot_answer_is_explained_and_another_still_works() -> None:
    client = _client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app)
        await _pick(pilot, screen, 2)  # github: stopped
        await wait_until(pilot, lambda: bool(app._notifications), "the notification")
        notice = next(iter(app._notifications))
        assert notice.title == "Could not inspect github"
        assert "no healthy instance" in notice.message
        assert "Could not inspect github" in text_of(pilot, "#inspector-status")
        assert screen.inspected is None

        await pilot.press("d")  # the picker, open, from anywhere
        await pilot.press("up", "enter")
        await wait_until(pilot, lambda: screen.inspected is not None, "weather's tools")
        assert screen.deployment == "weather"
        assert "weather 2.1.0" in text_of(pilot, "#inspector-status")
