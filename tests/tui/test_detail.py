"""Search → detail → review, editing a review, and detail → deploy wizard → healthy."""

from __future__ import annotations

from textual.widgets import Input, Select, TabbedContent, TextArea

from mcp_console.backend.security.secrets import MASK
from mcp_console.schemas.deploy import DeploymentCreate, DeploymentStatus, RuntimeChoice
from mcp_console.schemas.errors import NotFound
from mcp_console.screens.deploy import DeployScreen
from mcp_console.screens.market import MarketScreen
from mcp_console.screens.modals.review import ReviewModal
from mcp_console.screens.monitor import MonitorScreen
from mcp_console.screens.service_detail import ServiceDetailScreen
from mcp_console.widgets.service_table import ServiceTable
from mcp_console.widgets.stars import StarPicker
from tests.fakes import FakeClient
from tests.tui.helpers import SIZE, console, screen_text, text_of, text_once_composed, wait_until
from tests.tui.sample import sample_catalog, sample_reviews


async def _open_weather(pilot: object, app: object) -> ServiceDetailScreen:
    from textual.pilot import Pilot

    from mcp_console.app import ConsoleApp

    assert isinstance(pilot, Pilot)
    assert isinstance(app, ConsoleApp)
    market = app.screen
    assert isinstance(market, MarketScreen)
    await pilot.press("slash", *"weather")
    table = market.query_one(ServiceTable)
    await wait_until(pilot, lambda: table.names == ["acme/weather"], "hit")
    await pilot.press("enter", "enter")  # leave the search box, open the highlighted row
    await wait_until(pilot, lambda: isinstance(app.screen, ServiceDetailScreen), "the detail")
    detail = app.screen
    assert isinstance(detail, ServiceDetailScreen)
    await wait_until(pilot, lambda: detail.service is not None, "the service to load")
    return detail


async def test_search_then_detail_then_write_a_review() -> None:
    client = FakeClient(sample_catalog(), reviews=sample_reviews())
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        detail = await _open_weather(pilot, app)
        head = text_of(pilot, "#detail-head")
        assert "Weather" in head
        assert "by acme" in head
        assert "latest 2.1.0" in head
        assert "4.4 (19)" in head

        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewModal), "the review form")
        modal = app.screen
        # Saving with no stars names the field and keeps the form open.
        await pilot.press("ctrl+s")
        assert "rating" in text_of(pilot, "#review-error")
        assert modal.query_one(StarPicker).has_class("-invalid")
        assert isinstance(app.screen, ReviewModal)

        await pilot.press("4", "tab", *"Solid forecasts", "ctrl+s")
        await wait_until(pilot, lambda: app.screen is detail, "the form to close")
        await wait_until(pilot, lambda: any(r.user == "admin" for r in detail.reviews), "reload")
        mine = next(r for r in client.reviews if r.user == "admin")
        assert (mine.service, mine.rating, mine.comment) == ("acme/weather", 4, "Solid forecasts")
        assert detail.query_one(TabbedContent).active == "reviews"
        assert "admin (you)" in screen_text(pilot)


async def test_r_on_a_reviewed_service_edits_the_review() -> None:
    client = FakeClient(sample_catalog(), reviews=sample_reviews())
    client.me = client.me.model_copy(update={"name": "maria"})
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        await _open_weather(pilot, app)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewModal), "the review form")
        modal = app.screen
        assert modal.query_one(StarPicker).value == 5
        comment = modal.query_one("#review-comment", TextArea)
        assert comment.text.startswith("Reliable")
        await pilot.press("left", "ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, ReviewModal), "saved")
        maria = [r for r in client.reviews if r.user == "maria"]
        assert [r.rating for r in maria] == [4]


async def test_a_missing_service_shows_the_reason_instead_of_a_page() -> None:
    client = FakeClient(sample_catalog(), failures={"get_service": NotFound("no service 'x'")})
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        app.open_service("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ServiceDetailScreen), "detail")
        await wait_until(pilot, lambda: "no service" in text_of(pilot, "#detail-head"), "reason")
        await pilot.press("escape")
        assert isinstance(app.screen, MarketScreen)


async def test_deploy_wizard_names_the_bad_field_then_deploys_until_healthy() -> None:
    client = FakeClient(sample_catalog())
    taken = DeploymentCreate(service="acme/weather", name="weather", secrets={"API_KEY": "k"})
    await client.create_deployment(taken)
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        detail = await _open_weather(pilot, app)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, DeployScreen), "the wizard")
        wizard = app.screen
        assert isinstance(wizard, DeployScreen)
        await wait_until(pilot, lambda: wizard.ready, "the form")
        assert wizard.query_one("#deploy-version", Select).value == "2.1.0"

        # Without the required secret the review page does not open; the field is named.
        await pilot.press("ctrl+s")
        assert wizard.step == "form"
        assert "config.API_KEY: required" in text_of(pilot, "#cfg-0-error")
        secret = wizard.query_one("#cfg-0", Input)
        assert secret.has_focus
        assert secret.password

        # What only the backend can tell (the name is taken) comes back to the form, named.
        await pilot.press(*"sk-123")
        wizard.query_one("#deploy-replicas", Input).value = "2"
        await pilot.press("ctrl+s")
        assert wizard.step == "review"
        review = text_of(pilot, "#review-body")
        assert "secret API_KEY" in review
        assert "sk-123" not in review
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: wizard.step == "form", "back to the form")
        assert "already have a deployment named 'weather'" in text_of(pilot, "#deploy-name-error")
        name = wizard.query_one("#deploy-name", Input)
        assert name.has_focus
        assert name.has_class("-invalid")

        name.value = "weather-eu"
        await pilot.press("ctrl+s")
        assert wizard.step == "review"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: wizard.step == "progress", "the progress page")
        # Once healthy, the wizard gives way to the new deployment's monitor.
        await wait_until(pilot, lambda: isinstance(app.screen, MonitorScreen), "the monitor")
        await wait_until(
            pilot, lambda: "2/2 healthy" in text_once_composed(pilot, "#monitor-head"), "up"
        )
        deployed = client.deployments["weather-eu"]
        assert deployed.status is DeploymentStatus.RUNNING
        assert (deployed.replicas, deployed.runtime) == (2, RuntimeChoice.AUTO)
        # Typed and masked as the backend shows them (the default's text became a number).
        assert deployed.config == {"UNITS": "metric", "CACHE_SECONDS": 300, "API_KEY": MASK}
        assert deployed.secret_names == ["API_KEY"]
        await pilot.press("1")
        assert app.screen is detail
