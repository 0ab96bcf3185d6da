"""Where a version comes from and whether it runs here, as the detail page and the deploy
wizard show it; a remote server's URL and credential headers; pull and install progress."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Select, Static, TabbedContent

from mcp_console.schemas.deploy import PREPARE_EVENT, PULL_EVENT, RuntimeChoice
from mcp_console.screens.deploy import DeployScreen
from mcp_console.screens.service_detail import ServiceDetailScreen
from mcp_console.widgets.deploy_remote import RemoteFields
from mcp_console.widgets.reviews import VersionList
from tests.tui.helpers import console, open_detail, open_wizard, plain, wait_until
from tests.tui.sample_sources import IMAGE, KINDS, REMOTE_URL, kinds_client

SMALL = (80, 24)
TOKEN = "tok-4be1c9d07a"


def option_texts(versions: VersionList) -> list[str]:
    return [str(versions.get_option_at_index(i).prompt) for i in range(versions.option_count)]


async def open_fits(pilot: Pilot[None]) -> ServiceDetailScreen:
    detail = await open_detail(pilot, KINDS)
    await wait_until(pilot, lambda: detail.fits is not None, "the versions' fits")
    return detail


async def test_the_detail_page_marks_each_version_with_whether_it_runs_here() -> None:
    client = kinds_client()
    app = console(client)
    async with app.run_test(size=SMALL) as pilot:
        detail = await open_fits(pilot)
        rows = option_texts(detail.query_one(VersionList))

        assert rows[0].startswith("✓ 2.0.0 latest")
        assert "needs Python >=3.13; this machine has 3.11: docker runtime only" in rows[0]
        # A version that runs on every runtime it offers has nothing more to say in the list.
        assert rows[1] == "✓ 1.2.0  2026-11-20"
        assert rows[2] == "✓ 1.1.0  2026-11-16"
        assert rows[3].startswith("✗ 1.0.0")
        assert "cannot run here: program acme-kinds not found on this machine" in rows[3]
        assert "remote: runs elsewhere" in rows[4]
        # Beside the list: where the highlighted version comes from, each runtime's answer.
        side = detail.query_one("#detail-fit", Static)
        assert "from PyPI acme-kinds 2.0 (needs Python >=3.13)" in plain(side)
        assert "process ✗ needs Python >=3.13; this machine has 3.11" in plain(side)
        assert "docker  ✓ builds its image once, on Python 3.13" in plain(side)
        detail.query_one(TabbedContent).active = "versions"
        detail.query_one(VersionList).focus()
        await pilot.press("down", "down")
        await wait_until(pilot, lambda: "OCI image" in plain(side), "the image version")
        assert "docker  ✓ image not on the engine: will pull" in plain(side)

        # The image arrives on the engine: a refresh asks again, on the version being read.
        client.machine.images.add(IMAGE)
        await pilot.press("ctrl+r")
        await wait_until(
            pilot, lambda: client.calls.count("version_runnability") == 2, "asked again"
        )
        await wait_until(pilot, lambda: "runs here (docker)" in plain(side), "the new answer")
        assert detail.query_one(VersionList).highlighted == 2
        assert detail.selected_version is not None
        assert detail.selected_version.version == "1.1.0"
        assert "OCI image" in plain(side)
        assert "will pull" not in plain(side)
        assert client.calls.count("version_runnability") == 2


async def test_the_page_stands_when_the_machine_cannot_be_asked() -> None:
    from mcp_console.schemas.errors import Unavailable

    client = kinds_client()
    client.failures["version_runnability"] = Unavailable("the daemon is restarting")
    app = console(client)
    async with app.run_test(size=SMALL) as pilot:
        detail = await open_detail(pilot, KINDS)
        fit = detail.query_one("#detail-fit", Static)
        await wait_until(pilot, lambda: "Could not tell whether" in plain(fit), "the complaint")
        assert "the daemon is restarting" in plain(fit)
        assert option_texts(detail.query_one(VersionList))[0].startswith("  2.0.0")


async def test_the_wizard_says_where_the_chosen_version_comes_from() -> None:
    client = kinds_client()
    app = console(client)
    async with app.run_test(size=SMALL) as pilot:
        wizard = await open_wizard(pilot, KINDS)
        source = wizard.query_one("#deploy-source", Static)
        await wait_until(pilot, lambda: "✓" in plain(source), "the fit")
        assert "from PyPI acme-kinds 2.0 (needs Python >=3.13)" in plain(source)
        assert "needs Python >=3.13; this machine has 3.11: docker runtime only" in plain(source)

        wizard.query_one("#deploy-version", Select).value = "1.2.0"
        await wait_until(pilot, lambda: "npm" in plain(source), "the npm version")
        assert "from npm @acme/kinds 1.2.0 (needs Node.js >=20)" in plain(source)
        wizard.query_one("#deploy-version", Select).value = "1.1.0"
        await wait_until(pilot, lambda: "OCI" in plain(source), "the image version")
        assert f"from OCI image {IMAGE}" in plain(source)
        assert "will pull" in plain(source)
        wizard.query_one("#deploy-version", Select).value = "1.0.0"
        await wait_until(pilot, lambda: "command" in plain(source), "the command version")
        assert "✗ cannot run here: program acme-kinds not found" in plain(source)
        assert not wizard.query_one(RemoteFields).display


async def test_a_remote_deployment_takes_a_url_and_a_header_it_never_shows() -> None:
    client = kinds_client(ready_after=10**6)
    app = console(client)
    async with app.run_test(size=SMALL) as pilot:
        wizard = await open_wizard(pilot, KINDS)
        wizard.query_one("#deploy-version", Select).value = "0.9.0"
        remote = wizard.query_one(RemoteFields)
        await wait_until(pilot, lambda: remote.display, "the remote fields")
        assert f"from remote {REMOTE_URL}" in plain(wizard.query_one("#deploy-source", Static))
        wizard.query_one("#deploy-urls", Input).value = "https://a.example.com/mcp?key=k1"
        wizard.query_one("#deploy-header-name-1", Input).value = "Authorization"
        value = wizard.query_one("#deploy-header-value-1", Input)
        value.focus()
        await pilot.press(*f"Bearer {TOKEN}")
        assert value.value == f"Bearer {TOKEN}"
        seen = [app.export_screenshot()]

        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: wizard.step == "review", "the review page")
        review = plain(wizard.query_one("#review-body", Static))
        url = next(line for line in review.splitlines() if line.startswith("URL"))
        assert url.split() == ["URL", "https://a.example.com/mcp?…"]
        header = next(line for line in review.splitlines() if "header Authorization" in line)
        assert header.split()[-1] == "••••••"
        seen.append(app.export_screenshot())
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: wizard.step == "progress", "progress")
        await pilot.pause(0.2)
        seen.append(app.export_screenshot())

        created = client.deployments["kinds"]
        assert created.config == {"url:1": "••••••", "header:Authorization": "••••••"}
        for screen in seen:
            assert TOKEN not in screen
        # The key a URL's query may hold is shown only in the field it is typed into.
        assert not [screen for screen in seen[1:] if "key=k1" in screen]


async def test_choosing_the_remote_runtime_asks_for_the_server_url() -> None:
    client = kinds_client()
    app = console(client)
    async with app.run_test(size=SMALL) as pilot:
        wizard = await open_wizard(pilot, KINDS)
        wizard.query_one("#deploy-version", Select).value = "1.2.0"
        remote = wizard.query_one(RemoteFields)
        await pilot.pause(0.1)
        assert not remote.display
        wizard.query_one("#deploy-runtime", Select).value = RuntimeChoice.REMOTE
        await wait_until(pilot, lambda: remote.display, "the remote fields")
        wizard.query_one("#deploy-runtime", Select).value = RuntimeChoice.AUTO
        await wait_until(pilot, lambda: not remote.display, "the fields to go")


def pull(done: int, total: int, deployment_id: int, *, finished: bool = False) -> dict[str, Any]:
    return {
        "type": PULL_EVENT,
        "deployment": "kinds",
        "deployment_id": deployment_id,
        "image": IMAGE,
        "layers_done": done,
        "layers_total": total,
        "bytes_done": done * 10_000_000,
        "bytes_total": total * 10_000_000,
        "done": finished,
        "reason": f"pulling {IMAGE}: {done} of {total} layers, "
        f"{done * 10.0:.1f} of {total * 10.0:.1f} MB" + (" (done)" if finished else ""),
    }


async def deploy_image(pilot: Pilot[None]) -> DeployScreen:
    """Deploy ``acme/kinds``'s image version and wait for the progress page."""
    wizard = await open_wizard(pilot, KINDS)
    wizard.query_one("#deploy-version", Select).value = "1.1.0"
    await pilot.pause(0.1)
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: wizard.step == "review", "the review page")
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: wizard.step == "progress", "progress")
    return wizard


async def test_the_wizard_shows_the_pull_then_the_install_as_they_go() -> None:
    client = kinds_client(ready_after=10**6)
    app = console(client)
    async with app.run_test(size=SMALL) as pilot:
        wizard = await deploy_image(pilot)
        progress = wizard.query_one("#progress-body", Static)
        created = client.deployments["kinds"]
        # Another deployment's progress is not this one's.
        client.emit(pull(4, 5, created.id + 1))
        client.emit(pull(2, 5, created.id))
        await wait_until(pilot, lambda: "2 of 5 layers" in plain(progress), "the pull")
        assert "4 of 5" not in plain(progress)
        assert f"⇣ pulling {IMAGE}: 2 of 5 layers, 20.0 of 50.0 MB" in plain(progress)
        client.emit(pull(5, 5, created.id, finished=True))
        await wait_until(pilot, lambda: "(done)" in plain(progress), "the end of the pull")
        assert f"✓ pulling {IMAGE}: 5 of 5 layers" in plain(progress)
        step = "installing acme-kinds==2.0 from PyPI into its virtualenv"
        client.emit(
            {
                "type": PREPARE_EVENT,
                "deployment_id": created.id,
                "step": step,
                "done": False,
                "reason": step,
            }
        )
        await wait_until(pilot, lambda: f"⚙ {step}" in plain(progress), "the install")
