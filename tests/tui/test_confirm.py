"""Confirmation dialogs: enter takes the highlighted choice, arrows move the highlight."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Button

from mcp_console.schemas.deploy import DesiredState
from mcp_console.screens.deployments import DeploymentsScreen
from mcp_console.screens.market import MarketScreen
from mcp_console.screens.modals.confirm import ConfirmModal
from tests.fakes import FakeClient
from tests.tui.helpers import SIZE, console, open_deployments, wait_until
from tests.tui.sample_deployments import live_client


async def _deployments(pilot: Pilot[None], name: str) -> DeploymentsScreen:
    screen = await open_deployments(pilot)
    screen.table.select(name)
    await pilot.pause()
    return screen


async def _question(pilot: Pilot[None], key: str) -> ConfirmModal:
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmModal), "the question")
    modal = pilot.app.screen
    assert isinstance(modal, ConfirmModal)
    return modal


def _highlighted(modal: ConfirmModal) -> str:
    focused = modal.focused
    assert isinstance(focused, Button)
    return str(focused.label)


async def test_enter_takes_the_verb_it_highlights() -> None:
    client = live_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        await _deployments(pilot, "weather")
        modal = await _question(pilot, "x")
        assert _highlighted(modal) == "Stop"
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: client.deployments["weather"].desired_state is DesiredState.STOPPED,
            "the deployment to stop",
        )
        assert isinstance(app.screen, DeploymentsScreen)


async def test_enter_on_a_moved_highlight_takes_cancel() -> None:
    client = live_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        await _deployments(pilot, "weather")
        modal = await _question(pilot, "x")
        await pilot.press("right")
        assert _highlighted(modal) == "Cancel"
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmModal), "the answer")
        await pilot.pause(0.1)
        assert client.deployments["weather"].desired_state is DesiredState.RUNNING


async def test_delete_highlights_cancel_so_enter_alone_keeps_the_deployment() -> None:
    client = live_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _deployments(pilot, "weather")
        modal = await _question(pilot, "ctrl+d")
        assert _highlighted(modal) == "Cancel"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen, "the list again")
        await pilot.pause(0.1)
        assert "weather" in client.deployments

        modal = await _question(pilot, "ctrl+d")
        await pilot.press("left")
        assert _highlighted(modal) == "Delete"
        await pilot.press("enter")
        await wait_until(pilot, lambda: "weather" not in client.deployments, "the deletion")


async def test_enter_imports_the_starter_catalog_it_offers() -> None:
    client = FakeClient([])
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        market = app.screen
        assert isinstance(market, MarketScreen)
        await wait_until(pilot, lambda: market.catalog_empty, "the empty catalog")
        market.table.focus()
        modal = await _question(pilot, "i")
        assert _highlighted(modal) == "Import"
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(client.imported) == 3, "the import")
