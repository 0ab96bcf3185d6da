"""Snapshots of where versions come from and whether they run here: the detail page's marks,
the wizard's source line, a remote server's fields (a header typed masked), pull progress."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Input, Select, Static, TabbedContent

from mcp_console.schemas.deploy import PULL_EVENT
from mcp_console.screens.deploy import DeployScreen
from mcp_console.widgets.deploy_remote import RemoteFields
from tests.fakes import FakeClient
from tests.tui.helpers import console, open_detail, open_wizard, plain, wait_until
from tests.tui.sample_sources import IMAGE, KINDS, kinds_client
from tests.tui.test_version_sources import deploy_image

Compare = Callable[..., bool]
WIDE = (120, 36)
SMALL = (80, 24)


async def _versions(pilot: Pilot[None]) -> None:
    detail = await open_detail(pilot, KINDS)
    await wait_until(pilot, lambda: detail.fits is not None, "the fits")
    detail.query_one(TabbedContent).active = "versions"
    await pilot.pause(0.3)


def test_detail_versions_marked_with_where_they_run(snap_compare: Compare) -> None:
    assert snap_compare(console(kinds_client()), terminal_size=WIDE, run_before=_versions)


def test_detail_versions_marked_80x24(snap_compare: Compare) -> None:
    assert snap_compare(console(kinds_client()), terminal_size=SMALL, run_before=_versions)


async def _wizard_source(pilot: Pilot[None]) -> None:
    wizard = await open_wizard(pilot, KINDS)
    source = wizard.query_one("#deploy-source", Static)
    await wait_until(pilot, lambda: "✓" in plain(source), "the fit")
    await pilot.pause(0.2)


def test_deploy_form_says_where_the_version_comes_from(snap_compare: Compare) -> None:
    assert snap_compare(console(kinds_client()), terminal_size=WIDE, run_before=_wizard_source)


def test_deploy_form_source_80x24(snap_compare: Compare) -> None:
    assert snap_compare(console(kinds_client()), terminal_size=SMALL, run_before=_wizard_source)


async def _remote(pilot: Pilot[None]) -> None:
    wizard = await open_wizard(pilot, KINDS)
    wizard.query_one("#deploy-version", Select).value = "0.9.0"
    remote = wizard.query_one(RemoteFields)
    await wait_until(pilot, lambda: remote.display, "the remote fields")
    wizard.query_one("#deploy-urls", Input).value = "https://a.example.com/mcp"
    wizard.query_one("#deploy-header-name-1", Input).value = "Authorization"
    wizard.query_one("#deploy-header-value-1", Input).value = "Bearer tok-4be1c9d07a"
    wizard.query_one("#deploy-header-value-1", Input).focus()
    await pilot.pause(0.3)


def test_deploy_form_remote_fields_mask_the_header_80x24(snap_compare: Compare) -> None:
    assert snap_compare(console(kinds_client()), terminal_size=SMALL, run_before=_remote)


def _progress(client: FakeClient) -> Callable[[Pilot[None]], object]:
    async def steps(pilot: Pilot[None]) -> None:
        wizard = await deploy_image(pilot)
        created = client.deployments["kinds"]
        client.emit(
            {
                "type": PULL_EVENT,
                "deployment_id": created.id,
                "layers_done": 2,
                "layers_total": 5,
                "bytes_done": 21_000_000,
                "bytes_total": 52_500_000,
                "done": False,
                "reason": f"pulling {IMAGE}: 2 of 5 layers, 21.0 of 52.5 MB",
            }
        )
        progress = wizard.query_one("#progress-body", Static)
        await wait_until(pilot, lambda: "2 of 5" in plain(progress), "the pull")
        assert isinstance(pilot.app.screen, DeployScreen)
        await pilot.pause(0.3)

    return steps


def test_deploy_progress_while_pulling(snap_compare: Compare) -> None:
    client = kinds_client(ready_after=10**6)
    assert snap_compare(console(client), terminal_size=WIDE, run_before=_progress(client))


def test_deploy_progress_while_pulling_80x24(snap_compare: Compare) -> None:
    client = kinds_client(ready_after=10**6)
    assert snap_compare(console(client), terminal_size=SMALL, run_before=_progress(client))
