"""The developer console: publish from a server.json path, add a version, deprecate."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import DataTable, Input

from mcp_console.schemas.catalog import ServiceStatus
from mcp_console.screens.developer import DeveloperScreen
from mcp_console.screens.modals.confirm import ConfirmModal
from mcp_console.screens.modals.prompt import PromptModal
from mcp_console.screens.modals.publish import PublishModal
from mcp_console.screens.modals.version import VersionModal
from tests.fakes import FakeClient
from tests.tui.helpers import SIZE, console, text_of, wait_until
from tests.tui.sample import sample_catalog

DOCUMENT = {
    "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
    "name": "io.github.admin/clock",
    "description": "Tells the time",
    "version": "1.0.0",
    "packages": [
        {
            "registryType": "oci",
            "identifier": "ghcr.io/admin/clock:1.0.0",
            "transport": {"type": "stdio"},
        }
    ],
}


def _names(screen: DeveloperScreen) -> list[str]:
    return [str(k.value) for k in screen.query_one("#dev-table", DataTable).rows]


def _highlight(screen: DeveloperScreen, name: str) -> None:
    screen.query_one("#dev-table", DataTable).move_cursor(row=_names(screen).index(name))


async def _developer(pilot: object, app: object) -> DeveloperScreen:
    from textual.pilot import Pilot

    from mcp_console.app import ConsoleApp

    assert isinstance(pilot, Pilot)
    assert isinstance(app, ConsoleApp)
    await pilot.press("escape")  # out of the search box, so 4 is a key, not a digit
    await pilot.press("4")
    await wait_until(pilot, lambda: isinstance(app.screen, DeveloperScreen), "the console")
    screen = app.screen
    assert isinstance(screen, DeveloperScreen)
    await wait_until(pilot, lambda: bool(screen.services), "my services")
    return screen


async def test_publish_from_a_path_reports_problems_in_place_then_publishes(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{ not json")
    good = tmp_path / "clock"
    good.mkdir()
    (good / "server.json").write_text(json.dumps(DOCUMENT))
    client = FakeClient(sample_catalog())
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _developer(pilot, app)
        assert _names(screen) == ["admin/notes", "old/fetcher", "pg/postgres"]
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, PublishModal), "the dialog")
        path = app.screen.query_one("#publish-path", Input)

        path.value = str(tmp_path / "missing.json")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "No such file" in text_of(pilot, "#publish-error"), "404")

        path.value = str(broken)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "malformed JSON" in text_of(pilot, "#publish-error"), "bad")
        assert isinstance(app.screen, PublishModal)

        path.value = str(good)  # a folder holding a server.json
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen, "the dialog to close")
        await wait_until(pilot, lambda: "io.github.admin/clock" in _names(screen), "the new row")
        assert json.loads(client.published_texts[-1])["name"] == "io.github.admin/clock"


async def test_add_a_version_starting_from_the_latest() -> None:
    client = FakeClient(sample_catalog())
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _developer(pilot, app)
        _highlight(screen, "pg/postgres")
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, VersionModal), "the form")
        modal = app.screen
        await pilot.press(*"1.1", "ctrl+s")
        await wait_until(pilot, lambda: "not a semantic" in text_of(pilot, "#version-error"), "why")
        assert modal.query_one("#version-version", Input).has_class("-invalid")
        modal.query_one("#version-version", Input).value = "1.1.0"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen, "the form to close")
        versions = client.services["pg/postgres"].versions
        assert [v.version for v in versions] == ["1.1.0", "1.0.0"]
        assert versions[0].is_latest


async def test_deprecate_asks_for_a_message_then_a_confirmation() -> None:
    client = FakeClient(sample_catalog())
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _developer(pilot, app)
        _highlight(screen, "pg/postgres")
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptModal), "the prompt")
        await pilot.press("enter")
        assert "message: must not be empty" in text_of(pilot, "#prompt-error")
        await pilot.press(*"Use pg/postgres2", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
        await pilot.press("y")
        await wait_until(pilot, lambda: app.screen is screen, "back")
        await wait_until(
            pilot,
            lambda: client.services["pg/postgres"].status is ServiceStatus.DEPRECATED,
            "the deprecation",
        )
        assert client.services["pg/postgres"].deprecation_message == "Use pg/postgres2"
