"""The new-version form describes a command serving HTTP, and keeps a package's transport."""

from __future__ import annotations

from textual.widgets import Input, Select

from mcp_console.schemas.catalog import Transport
from mcp_console.screens.modals.version import VersionModal
from tests.fakes import FakeClient
from tests.tui.helpers import SIZE, console, wait_until
from tests.tui.sample import sample_catalog
from tests.tui.test_developer import _developer, _highlight


async def test_a_new_version_can_be_a_command_serving_http() -> None:
    client = FakeClient(sample_catalog())
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _developer(pilot, app)
        _highlight(screen, "admin/notes")
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, VersionModal), "the form")
        modal = app.screen
        transport = modal.query_one("#version-transport", Select)
        assert transport.value == Transport.STDIO
        modal.query_one("#version-version", Input).value = "2.0.0"
        modal.query_one("#version-command", Input).value = "my-server --port {port}"
        transport.value = Transport.STREAMABLE_HTTP
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen, "the form to close")
        added = client.services["admin/notes"].versions[0]
        assert added.version == "2.0.0"
        assert added.command == ["my-server", "--port", "{port}"]
        assert added.transport == Transport.STREAMABLE_HTTP


async def test_the_form_starts_from_the_latest_versions_transport() -> None:
    client = FakeClient(sample_catalog())
    latest = client.services["pg/postgres"].versions[0]
    client.services["pg/postgres"].versions[0] = latest.model_copy(
        update={"transport": Transport.SSE}
    )
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _developer(pilot, app)
        _highlight(screen, "pg/postgres")
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, VersionModal), "the form")
        modal = app.screen
        assert modal.query_one("#version-transport", Select).value == Transport.SSE
        modal.query_one("#version-version", Input).value = "1.1.0"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen, "the form to close")
        assert client.services["pg/postgres"].versions[0].transport == Transport.SSE
