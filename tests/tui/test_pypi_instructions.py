"""The deploy wizard asks for what the catalog gave only as an instruction (``<port number>``)."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import Input

from mcp_console.backend.catalog.formats.registry_seed import entry_from_seed
from mcp_console.screens.deploy import DeployScreen
from mcp_console.screens.service_detail import ServiceDetailScreen
from tests.fakes import FakeClient
from tests.tui.helpers import SIZE, console, text_of, wait_until
from tests.tui.sample import service, version

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / ".." / "shared" / "data" / "catalogs" / "official-registry" / "seed-2025-05-16.json"
RABBITMQ = "io.github.kenliao94/mcp-server-rabbitmq"


def _rabbitmq_schema() -> dict[str, object]:
    raw = next(e for e in json.loads(SEED.read_text()) if e["name"] == RABBITMQ)
    return entry_from_seed(raw, "seed").version.config_schema


async def test_the_wizard_asks_for_a_value_the_catalog_only_described() -> None:
    catalog = [
        service(RABBITMQ, versions=[version("0.0.1-seed", config_schema=_rabbitmq_schema())])
    ]
    app = console(FakeClient(catalog))
    async with app.run_test(size=SIZE) as pilot:
        app.open_service(RABBITMQ)
        await wait_until(pilot, lambda: isinstance(app.screen, ServiceDetailScreen), "detail")
        detail = app.screen
        assert isinstance(detail, ServiceDetailScreen)
        await wait_until(pilot, lambda: detail.service is not None, "the service to load")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, DeployScreen), "the wizard")
        wizard = app.screen
        assert isinstance(wizard, DeployScreen)
        await wait_until(pilot, lambda: wizard.ready, "the form")

        host = wizard.query_one("#cfg-0", Input)
        # The catalog's instruction is the field's hint, never its value.
        assert host.value == ""
        assert host.placeholder == "<hostname ex. test.rabbit.com, localhost>"
        await pilot.press("ctrl+s")
        assert wizard.step == "form"
        assert text_of(pilot, "#cfg-0-error").endswith(
            "config.rabbitmq_host: required: the catalog's value "
            "'<hostname ex. test.rabbit.com, localhost>' is an instruction, not a value"
        )
