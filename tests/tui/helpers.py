"""Pilot helpers: build the app on a fake client, wait for what a user would wait for."""

from __future__ import annotations

import io
import time
from collections.abc import Callable

from rich.console import Console
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import Static

from mcp_console.app import ConsoleApp
from mcp_console.client.protocol import ConsoleClient
from mcp_console.screens.alerts import AlertsScreen
from mcp_console.screens.deploy import DeployScreen
from mcp_console.screens.deployments import DeploymentsScreen
from mcp_console.screens.developer import DeveloperScreen
from mcp_console.screens.keys import KeysScreen
from mcp_console.screens.service_detail import ServiceDetailScreen
from tests.tui.sample import frozen_clock

SIZE = (120, 36)
WAIT_SECONDS = 10.0


def console(client: ConsoleClient) -> ConsoleApp:
    """The app as the tests drive it: a frozen clock and a cursor that does not blink."""
    return ConsoleApp(client, clock=frozen_clock, steady_cursor=True)


async def wait_until(
    pilot: Pilot[None], check: Callable[[], bool], what: str, seconds: float = WAIT_SECONDS
) -> None:
    """Let the app run until ``check()`` holds (workers finish on their own time)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def plain(widget: Static) -> str:
    """The text a Static shows, without styles."""
    content = widget.content
    if isinstance(content, str):
        return Content.from_markup(content).plain
    if isinstance(content, Content):
        return content.plain
    console = Console(width=300, file=io.StringIO(), record=True, color_system=None)
    console.print(content)
    return console.export_text()


def text_of(pilot: Pilot[None], selector: str) -> str:
    """The plain text of one Static on the active screen."""
    return plain(pilot.app.screen.query_one(selector, Static))


def text_once_composed(pilot: Pilot[None], selector: str) -> str:
    """Like ``text_of``, but ``""`` while a screen just pushed has not composed it yet."""
    found = pilot.app.screen.query(selector).results(Static)
    return next((plain(widget) for widget in found), "")


def screen_text(pilot: Pilot[None]) -> str:
    """Everything the active screen's visible Static widgets show (labels included)."""
    return "\n".join(plain(w) for w in pilot.app.screen.query(Static) if w.display)


async def open_deployments(pilot: Pilot[None]) -> DeploymentsScreen:
    """Leave the market's search box, press 2, and wait for the deployments to load."""
    app = pilot.app
    await pilot.press("escape", "2")
    await wait_until(pilot, lambda: isinstance(app.screen, DeploymentsScreen), "the list")
    screen = app.screen
    assert isinstance(screen, DeploymentsScreen)
    await wait_until(pilot, lambda: screen.loaded, "the deployments")
    return screen


async def open_detail(pilot: Pilot[None], service: str = "acme/weather") -> ServiceDetailScreen:
    """Open ``service``'s page and wait for it to load."""
    app = pilot.app
    assert isinstance(app, ConsoleApp)
    app.open_service(service)
    await wait_until(pilot, lambda: isinstance(app.screen, ServiceDetailScreen), "the detail")
    detail = app.screen
    assert isinstance(detail, ServiceDetailScreen)
    await wait_until(pilot, lambda: detail.service is not None, "the service")
    return detail


async def open_wizard(pilot: Pilot[None], service: str = "acme/weather") -> DeployScreen:
    """Open ``service``'s page, press d, and wait for the deploy wizard's form."""
    app = pilot.app
    await open_detail(pilot, service)
    await pilot.press("d")
    await wait_until(pilot, lambda: isinstance(app.screen, DeployScreen), "the wizard")
    wizard = app.screen
    assert isinstance(wizard, DeployScreen)
    await wait_until(pilot, lambda: wizard.ready, "the form")
    return wizard


async def open_keys(pilot: Pilot[None]) -> KeysScreen:
    """Leave the market's search box, go to the developer console, press k, and wait for
    the keys to load."""
    app = pilot.app
    await pilot.press("escape", "4")
    await wait_until(pilot, lambda: isinstance(app.screen, DeveloperScreen), "the console")
    await pilot.press("k")
    await wait_until(pilot, lambda: isinstance(app.screen, KeysScreen), "the keys")
    screen = app.screen
    assert isinstance(screen, KeysScreen)
    await wait_until(pilot, lambda: screen.loaded, "my keys")
    return screen


async def open_alert_tab(pilot: Pilot[None], tab: str) -> AlertsScreen:
    """Leave the market's search box, press 5, bring the ``rules`` or ``targets`` tab forward,
    and wait for what it lists."""
    app = pilot.app
    await pilot.press("escape", "5")
    await wait_until(pilot, lambda: isinstance(app.screen, AlertsScreen), "the alerts")
    screen = app.screen
    assert isinstance(screen, AlertsScreen)
    await wait_until(pilot, lambda: screen.loads > 0, "the first alerts")
    screen.show_tab(tab)
    loaded = (lambda: screen.rules_loaded) if tab == "rules" else (lambda: screen.targets_loaded)
    await wait_until(pilot, loaded, f"the {tab}")
    await pilot.pause(0.1)
    return screen
