"""Snapshots of every screen state: loaded, empty, error and each modal (fake client, frozen
clock).

Update them with ``pytest tests/snapshots --snapshot-update`` after a deliberate change, and
look at the report pytest prints before committing the new SVGs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Static, TabbedContent

from mcp_console.app import ConsoleApp
from mcp_console.schemas.deploy import DeploymentCreate
from mcp_console.schemas.errors import Forbidden, NotFound, Unavailable
from mcp_console.screens.deploy import DeployScreen
from mcp_console.screens.developer import DeveloperScreen
from mcp_console.screens.market import MarketScreen
from mcp_console.screens.modals.confirm import ConfirmModal
from mcp_console.screens.modals.error import ErrorModal
from mcp_console.screens.modals.prompt import PromptModal
from mcp_console.screens.modals.publish import PublishModal
from mcp_console.screens.modals.review import ReviewModal
from mcp_console.screens.modals.version import VersionModal
from mcp_console.screens.service_detail import ServiceDetailScreen
from tests.fakes import FakeClient
from tests.tui.helpers import console, plain, wait_until
from tests.tui.sample import sample_catalog, sample_reviews, starter_like_catalog

Compare = Callable[..., bool]
Steps = Callable[[Pilot[None]], Awaitable[None]]
WIDE = (120, 36)
SMALL = (80, 24)


def _app(**kwargs: Any) -> ConsoleApp:
    services = kwargs.pop("services", None)
    client = FakeClient(
        sample_catalog() if services is None else services, reviews=sample_reviews(), **kwargs
    )
    return console(client)


async def _market_ready(pilot: Pilot[None]) -> MarketScreen:
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, MarketScreen), "the market")
    market = app.screen
    assert isinstance(market, MarketScreen)
    await wait_until(pilot, lambda: market.last_page is not None, "the first page")
    await wait_until(pilot, lambda: market.facets_loaded, "the facets")
    await pilot.pause(0.1)
    return market


async def _detail(pilot: Pilot[None], name: str = "acme/weather", tab: str = "overview") -> None:
    app = pilot.app
    await _market_ready(pilot)
    assert isinstance(app, ConsoleApp)
    app.open_service(name)
    await wait_until(pilot, lambda: isinstance(app.screen, ServiceDetailScreen), "the detail")
    detail = app.screen
    assert isinstance(detail, ServiceDetailScreen)
    await wait_until(pilot, lambda: detail.service is not None, "the service")
    detail.query_one(TabbedContent).active = tab
    await pilot.pause(0.2)


async def _screen(pilot: Pilot[None], kind: type, what: str) -> None:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, kind), what)
    await pilot.pause(0.2)


# --- market ------------------------------------------------------------------------------


def test_market_loaded(snap_compare: Compare) -> None:
    assert snap_compare(_app(), terminal_size=WIDE, run_before=_market_ready)


def test_market_loaded_80x24(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _market_ready(pilot)
        await pilot.press("escape")  # the cursor goes to the table

    assert snap_compare(_app(), terminal_size=SMALL, run_before=steps)


def test_market_starter_catalog_100x30(snap_compare: Compare) -> None:
    # With the browse list beside it, the table still shows "Example server" whole.
    assert snap_compare(
        _app(services=starter_like_catalog()), terminal_size=(100, 30), run_before=_market_ready
    )


def test_market_first_run_offers_the_starter_catalog(snap_compare: Compare) -> None:
    assert snap_compare(_app(services=[]), terminal_size=WIDE, run_before=_market_ready)


def test_market_import_confirmation(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _market_ready(pilot)
        await pilot.press("escape", "i")
        await _screen(pilot, ConfirmModal, "the question")

    assert snap_compare(_app(services=[]), terminal_size=WIDE, run_before=steps)


def test_market_invalid_filter(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        market = await _market_ready(pilot)
        market.search_box.set_query("weather colour:red")
        await wait_until(pilot, lambda: market.search_box.has_class("-invalid"), "the error")

    assert snap_compare(_app(), terminal_size=WIDE, run_before=steps)


def test_market_no_matches(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        market = await _market_ready(pilot)
        market.search_box.set_query("zebra")
        await wait_until(pilot, lambda: market.table.total == 0, "no matches")

    assert snap_compare(_app(), terminal_size=WIDE, run_before=steps)


def test_market_backend_unreachable(snap_compare: Compare) -> None:
    app = _app(failures={"search_services": Unavailable("the daemon at 127.0.0.1:8765 is gone")})
    assert snap_compare(
        app, terminal_size=WIDE, run_before=lambda p: _screen(p, ErrorModal, "the error")
    )


# --- service detail ----------------------------------------------------------------------


def test_detail_overview(snap_compare: Compare) -> None:
    assert snap_compare(_app(), terminal_size=WIDE, run_before=_detail)


def test_detail_overview_80x24(snap_compare: Compare) -> None:
    assert snap_compare(_app(), terminal_size=SMALL, run_before=_detail)


def test_detail_versions(snap_compare: Compare) -> None:
    assert snap_compare(_app(), terminal_size=WIDE, run_before=lambda p: _detail(p, tab="versions"))


def test_detail_tools(snap_compare: Compare) -> None:
    assert snap_compare(_app(), terminal_size=WIDE, run_before=lambda p: _detail(p, tab="tools"))


def test_detail_config(snap_compare: Compare) -> None:
    assert snap_compare(_app(), terminal_size=WIDE, run_before=lambda p: _detail(p, tab="config"))


def test_detail_reviews(snap_compare: Compare) -> None:
    assert snap_compare(_app(), terminal_size=WIDE, run_before=lambda p: _detail(p, tab="reviews"))


def test_detail_deprecated_without_tools_or_readme(snap_compare: Compare) -> None:
    assert snap_compare(
        _app(), terminal_size=WIDE, run_before=lambda p: _detail(p, "old/fetcher", "tools")
    )


def test_detail_not_found(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        app = pilot.app
        await _market_ready(pilot)
        assert isinstance(app, ConsoleApp)
        app.open_service("acme/nothing")
        await wait_until(pilot, lambda: isinstance(app.screen, ServiceDetailScreen), "detail")
        await wait_until(
            pilot, lambda: app.screen.query_one("#detail-head").has_class("-error"), "x"
        )

    app = _app(failures={"get_service": NotFound("no service named 'acme/nothing'")})
    assert snap_compare(app, terminal_size=WIDE, run_before=steps)


def test_review_modal_names_the_missing_rating(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _detail(pilot)
        await pilot.press("r")
        await _screen(pilot, ReviewModal, "the form")
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)

    assert snap_compare(_app(), terminal_size=WIDE, run_before=steps)


def test_review_modal_edits_my_review(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, ConsoleApp)
        client = app.client
        assert isinstance(client, FakeClient)
        client.me = client.me.model_copy(update={"name": "maria"})
        await _detail(pilot, tab="reviews")
        await pilot.press("r")
        await _screen(pilot, ReviewModal, "the form")

    assert snap_compare(_app(), terminal_size=WIDE, run_before=steps)


# --- deploy wizard -----------------------------------------------------------------------


async def _wizard(pilot: Pilot[None]) -> DeployScreen:
    await _detail(pilot)
    await pilot.press("d")
    await _screen(pilot, DeployScreen, "the wizard")
    wizard = pilot.app.screen
    assert isinstance(wizard, DeployScreen)
    await wait_until(pilot, lambda: wizard.ready, "the form")
    await pilot.pause(0.2)
    return wizard


def test_deploy_form_names_the_missing_secret(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _wizard(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)

    assert snap_compare(_app(), terminal_size=WIDE, run_before=steps)


def test_deploy_review_masks_secrets(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        wizard = await _wizard(pilot)
        wizard.query_one("#cfg-0", Input).value = "sk-live-123"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: wizard.step == "review", "the review page")

    assert snap_compare(_app(), terminal_size=WIDE, run_before=steps)


def test_deploy_progress_while_starting(snap_compare: Compare) -> None:
    # Once healthy the wizard gives way to the monitor (see test_live_screens), so the
    # progress page is caught while the instance starts.
    async def steps(pilot: Pilot[None]) -> None:
        wizard = await _wizard(pilot)
        wizard.query_one("#cfg-0", Input).value = "sk-live-123"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: wizard.step == "review", "the review page")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: wizard.step == "progress", "progress")
        progress = wizard.query_one("#progress-body", Static)
        await wait_until(pilot, lambda: "0/1 healthy" in plain(progress), "progress")
        await pilot.pause(0.3)

    assert snap_compare(_app(ready_after=10**6), terminal_size=WIDE, run_before=steps)


def test_deploy_form_offers_a_free_name_for_a_taken_one_80x24(snap_compare: Compare) -> None:
    # At the smallest size the refusal shows under the name, with a free name on offer.
    client = FakeClient(sample_catalog(), reviews=sample_reviews())
    taken = DeploymentCreate(service="acme/weather", name="weather", secrets={"API_KEY": "k"})

    async def steps(pilot: Pilot[None]) -> None:
        await client.create_deployment(taken)
        wizard = await _wizard(pilot)
        wizard.query_one("#cfg-0", Input).value = "sk-live-123"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: wizard.step == "review", "the review page")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: wizard.free_name is not None, "the refusal")
        await pilot.pause(0.3)

    assert snap_compare(console(client), terminal_size=SMALL, run_before=steps)


# --- developer console -------------------------------------------------------------------


async def _developer(pilot: Pilot[None]) -> DeveloperScreen:
    await _market_ready(pilot)
    await pilot.press("escape", "4")
    await _screen(pilot, DeveloperScreen, "the console")
    screen = pilot.app.screen
    assert isinstance(screen, DeveloperScreen)
    await wait_until(pilot, lambda: screen.loaded, "my services")
    await pilot.pause(0.2)
    return screen


def test_developer_loaded(snap_compare: Compare) -> None:
    assert snap_compare(_app(), terminal_size=WIDE, run_before=_developer)


def test_developer_with_no_services(snap_compare: Compare) -> None:
    assert snap_compare(_app(services=[]), terminal_size=WIDE, run_before=_developer)


def test_developer_forbidden(snap_compare: Compare) -> None:
    app = _app(failures={"my_services": Forbidden("only authors and admins have services")})
    assert snap_compare(app, terminal_size=WIDE, run_before=_developer)


def test_publish_modal_shows_the_schema_error(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _developer(pilot)
        await pilot.press("n")
        await _screen(pilot, PublishModal, "the dialog")
        pilot.app.screen.query_one("#publish-path", Input).value = "/nonexistent/server.json"
        await pilot.press("enter")
        error = pilot.app.screen.query_one("#publish-error", Static)
        await wait_until(pilot, lambda: bool(error.content), "the error")
        await pilot.pause(0.2)

    assert snap_compare(_app(), terminal_size=WIDE, run_before=steps)


def test_version_modal(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _developer(pilot)
        await pilot.press("a")
        await _screen(pilot, VersionModal, "the form")

    assert snap_compare(_app(), terminal_size=WIDE, run_before=steps)


def test_deprecate_prompt(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _developer(pilot)
        await pilot.press("x")
        await _screen(pilot, PromptModal, "the prompt")
        await pilot.press("enter")
        await pilot.pause(0.1)

    assert snap_compare(_app(), terminal_size=WIDE, run_before=steps)


# --- shell -------------------------------------------------------------------------------


def test_help(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _market_ready(pilot)
        await pilot.press("escape", "question_mark")
        await pilot.pause(0.2)

    assert snap_compare(_app(), terminal_size=WIDE, run_before=steps)


def test_command_line_explains_an_unknown_name(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _market_ready(pilot)
        await pilot.press("escape", "colon", *"nowhere", "enter")
        await pilot.pause(0.2)

    assert snap_compare(_app(), terminal_size=WIDE, run_before=steps)
