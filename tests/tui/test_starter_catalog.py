"""First run on the real backend: import the starter catalog, then deploy the example server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from textual.widgets import Select, TabbedContent

from mcp_console.backend.runtime import Runtime
from mcp_console.client.local import LocalClient
from mcp_console.screens.deploy import DeployScreen
from mcp_console.screens.market import MarketScreen
from mcp_console.screens.modals.confirm import ConfirmModal
from mcp_console.screens.monitor import MonitorScreen
from mcp_console.screens.service_detail import ServiceDetailScreen
from mcp_console.settings import Settings
from mcp_console.starter import starter_documents
from mcp_console.widgets.api_reference import ApiReference
from mcp_console.widgets.service_table import ServiceTable
from tests.tui.helpers import SIZE, console, plain, text_of, wait_until

# Deploying starts a real process and waits for real MCP health checks.
DEPLOY_SECONDS = 60.0


@pytest_asyncio.fixture
async def live_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """A backend with its controller running, as the interactive console has it."""
    settings.runtime = "process"
    async with Runtime(settings, migrate=False, background=True) as runtime:
        yield runtime


async def test_every_starter_document_imports_cleanly(runtime: Runtime) -> None:
    assert runtime.local_admin is not None
    client = LocalClient(runtime, runtime.local_admin)
    report = await client.import_catalog(starter_documents())
    assert report.problems == []
    assert sorted(report.created) == ["example@1.0.0", "git@2026.10.19", "time@2026.10.19"]
    example = await client.get_service("example")
    [version] = example.versions
    assert version.command[1:] == ["-m", "mcp_console.devtools.example_server"]
    assert [t["name"] for t in version.api_spec["tools"]][:2] == ["add", "echo"]
    # Export keeps what server.json has no field for under our own _meta key.
    exported = await client.export_server_json("example")
    ours = exported["_meta"]["io.mcp-console/catalog"]
    assert ours["command"] == version.command
    assert [t["name"] for t in ours["tools"]] == [t["name"] for t in version.api_spec["tools"]]
    assert ours["readme"] == example.readme
    time_server = await client.get_service("time")
    assert time_server.versions[0].packages[0].identifier == "mcp-server-time"
    assert time_server.readme
    assert time_server.readme.startswith("# Time")


async def test_a_newcomer_imports_the_starter_catalog_and_deploys_the_example(
    live_runtime: Runtime,
) -> None:
    assert live_runtime.local_admin is not None
    app = console(LocalClient(live_runtime, live_runtime.local_admin))
    async with app.run_test(size=SIZE) as pilot:
        market = app.screen
        assert isinstance(market, MarketScreen)
        await wait_until(pilot, lambda: market.catalog_empty, "the first-run offer")
        await pilot.press("escape", "i")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
        await pilot.press("y")
        table = market.query_one(ServiceTable)
        await wait_until(pilot, lambda: table.total == 3, "the starter services")

        market.search_box.set_query("offline example")
        await wait_until(pilot, lambda: table.names == ["example"], "hit")
        table.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ServiceDetailScreen), "detail")
        detail = app.screen
        assert isinstance(detail, ServiceDetailScreen)
        await wait_until(pilot, lambda: detail.service is not None, "the service")
        detail.query_one(TabbedContent).active = "tools"
        await pilot.pause()
        tools = plain(detail.query_one(ApiReference).query_one("#tools-body"))  # type: ignore[arg-type]
        assert "add" in tools
        assert "sleep" in tools

        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, DeployScreen), "the wizard")
        wizard = app.screen
        assert isinstance(wizard, DeployScreen)
        await wait_until(pilot, lambda: wizard.ready, "the form")
        assert wizard.query_one("#deploy-version", Select).value == "1.0.0"
        await pilot.press("ctrl+s")
        assert wizard.step == "review"
        await pilot.press("ctrl+s")
        # Once healthy, the wizard gives way to the new deployment's monitor.
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, MonitorScreen),
            "a healthy example server",
            seconds=DEPLOY_SECONDS,
        )
        monitor = app.screen
        assert isinstance(monitor, MonitorScreen)
        await wait_until(pilot, lambda: monitor.polls > 0, "the live figures")
        assert "1/1 healthy" in text_of(pilot, "#monitor-head")
        assert monitor.problem is None
        deployed = await live_runtime.deployments.get(live_runtime.local_admin, "example")
        assert deployed.ready_replicas == 1
