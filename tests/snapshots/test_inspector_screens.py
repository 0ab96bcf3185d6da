"""Snapshots of the inspector at 80x24, each state a user meets (fake client, frozen clock)."""

# Update them with ``pytest tests/snapshots --snapshot-update`` after a deliberate change.

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Input, Static

from mcp_console.app import ConsoleApp
from mcp_console.devtools.server_inspector import LocalInspector
from mcp_console.screens.developer import DeveloperScreen
from mcp_console.screens.inspector import InspectorScreen
from mcp_console.widgets.tool_form import ToolForm
from tests.fakes import FakeClient
from tests.tui.fake_inspector import running
from tests.tui.helpers import console, plain, wait_until
from tests.tui.sample import frozen_clock, sample_catalog

Compare = Callable[..., bool]
SMALL = (80, 24)


def _app(*, deployments: bool = True) -> ConsoleApp:
    client = FakeClient(sample_catalog())
    if deployments:
        running(client.deploys, "acme/weather", "weather", secrets={"API_KEY": "k"})
        running(client.deploys, "io.github.octo/github", "github")
        client.deploys.stop("github")
    return console(client)


async def _inspector(pilot: Pilot[None]) -> InspectorScreen:
    app = pilot.app
    await pilot.press("escape", "4")
    await wait_until(pilot, lambda: isinstance(app.screen, DeveloperScreen), "the console")
    await pilot.press("i")
    await wait_until(pilot, lambda: isinstance(app.screen, InspectorScreen), "the inspector")
    screen = app.screen
    assert isinstance(screen, InspectorScreen)
    await wait_until(pilot, lambda: screen.loaded, "the deployments")
    await pilot.pause(0.2)
    return screen


async def _inspected(pilot: Pilot[None], name: str = "weather") -> InspectorScreen:
    screen = await _inspector(pilot)
    screen.picker.value = name
    await wait_until(pilot, lambda: screen.inspected is not None, f"{name}'s tools")
    await pilot.pause(0.2)
    return screen


async def _call(pilot: Pilot[None], place: str, days: str = "3") -> InspectorScreen:
    screen = await _inspected(pilot)
    form = screen.query_one(ToolForm)
    form.query_one("#cfg-0", Input).value = place
    form.query_one("#cfg-1", Input).value = days
    await pilot.press("ctrl+s")
    return screen


def _result_shows(screen: InspectorScreen, text: str) -> Callable[[], bool]:
    return lambda: text in plain(screen.pane.result)


def test_inspector_without_deployments(snap_compare: Compare) -> None:
    assert snap_compare(_app(deployments=False), terminal_size=SMALL, run_before=_inspector)


def test_inspector_lists_the_tools_with_a_form(snap_compare: Compare) -> None:
    assert snap_compare(_app(), terminal_size=SMALL, run_before=_inspected)


def test_inspector_marks_the_wrong_argument(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        screen = await _call(pilot, "Lisbon", days="42")
        error = screen.query_one("#cfg-1-error", Static)
        await wait_until(pilot, lambda: error.has_class("-shown"), "the error at days")
        await pilot.pause(0.2)

    assert snap_compare(_app(), terminal_size=SMALL, run_before=steps)


def test_inspector_shows_the_answer(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        screen = await _call(pilot, "Lisbon")
        await wait_until(pilot, _result_shows(screen, "answered"), "the answer")
        await pilot.pause(0.3)

    assert snap_compare(_app(), terminal_size=SMALL, run_before=steps)


def test_inspector_shows_a_tool_error_in_red(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        screen = await _call(pilot, "Atlantis")
        await wait_until(pilot, _result_shows(screen, "reported an error"), "the error")
        await pilot.pause(0.3)

    assert snap_compare(_app(), terminal_size=SMALL, run_before=steps)


def test_inspector_shows_the_raw_exchange(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        screen = await _call(pilot, "Oslo", days="2")
        await wait_until(pilot, _result_shows(screen, "answered"), "the answer")
        await pilot.press("x")  # the cursor is still in the tool list
        await pilot.pause(0.3)

    assert snap_compare(_app(), terminal_size=SMALL, run_before=steps)


def test_inspector_when_the_deployment_cannot_answer(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        screen = await _inspector(pilot)
        screen.picker.value = "github"
        await wait_until(pilot, lambda: bool(pilot.app._notifications), "the notification")
        await pilot.pause(0.3)

    assert snap_compare(_app(), terminal_size=SMALL, run_before=steps)


def test_inspector_names_a_server_by_url_with_a_hidden_header(snap_compare: Compare) -> None:
    app = ConsoleApp(
        FakeClient(sample_catalog()),
        clock=frozen_clock,
        steady_cursor=True,
        inspector=LocalInspector(),
    )

    async def steps(pilot: Pilot[None]) -> None:
        await _inspector(pilot)
        await pilot.press("u", *"http://127.0.0.1:8000/mcp", "tab", *"Authorization: Bearer k")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SMALL, run_before=steps)
