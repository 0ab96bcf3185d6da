"""The deploy wizard at 80x24: a refusal is drawn at its field, on screen, and a taken name
comes with a free one."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input, Static

from mcp_console.schemas.deploy import DeploymentCreate
from mcp_console.schemas.errors import Invalid
from mcp_console.screens.deploy import DeployScreen, free_name
from mcp_console.widgets.deploy_settings import DeploySettings
from tests.fakes import FakeClient
from tests.tui.helpers import console, open_wizard, plain, wait_until
from tests.tui.sample import sample_catalog

SMALL = (80, 24)


def on_screen(widget: Widget) -> bool:
    """Whether all of ``widget`` shows inside the form's scrolled view."""
    view = widget.screen.query_one(DeploySettings).content_region
    return widget.region.height > 0 and view.contains_region(widget.region)


async def _client(refusal: Invalid | None = None) -> FakeClient:
    """A catalog where ``weather`` is deployed; ``refusal`` refuses every deployment after."""
    client = FakeClient(sample_catalog())
    taken = DeploymentCreate(service="acme/weather", name="weather", secrets={"API_KEY": "k"})
    await client.create_deployment(taken)
    if refusal is not None:
        client.failures["create_deployment"] = refusal
    return client


async def _submit(pilot: Pilot[None], wizard: DeployScreen) -> None:
    """Review, deploy, and wait to be sent back to the form."""
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: wizard.step == "review", "the review page")
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: wizard.step == "form", "back to the form")
    await pilot.pause(0.2)  # the form scrolls after the next refresh


async def test_a_taken_name_is_named_at_the_field_with_a_free_one_to_take() -> None:
    client = await _client()
    weather_2 = DeploymentCreate(service="acme/weather", name="weather-2", secrets={"API_KEY": "k"})
    await client.create_deployment(weather_2)
    app = console(client)
    async with app.run_test(size=SMALL) as pilot:
        wizard = await open_wizard(pilot)
        wizard.query_one("#cfg-0", Input).value = "sk-123"
        await _submit(pilot, wizard)

        name = wizard.query_one("#deploy-name", Input)
        error = wizard.query_one("#deploy-name-error", Static)
        assert "already have a deployment named 'weather'" in plain(error)
        # weather-2 is taken as well: the next free one is offered.
        assert "'weather-3' is free: ctrl+n takes it" in plain(error)
        assert name.has_focus
        assert name.has_class("-invalid")
        assert on_screen(name)
        assert on_screen(error)
        assert "Free name" in str(wizard.active_bindings["ctrl+n"].binding.description)

        await pilot.press("ctrl+n")
        assert name.value == "weather-3"
        assert not error.display
        assert not name.has_class("-invalid")
        await pilot.press("ctrl+s")
        assert wizard.step == "review"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "weather-3" in client.deployments, "the deployment")


async def test_the_offer_goes_with_the_complaint_it_answers() -> None:
    client = await _client()
    app = console(client)
    async with app.run_test(size=SMALL) as pilot:
        wizard = await open_wizard(pilot)
        wizard.query_one("#cfg-0", Input).value = "sk-123"
        await _submit(pilot, wizard)
        assert wizard.check_action("free_name", ())

        name = wizard.query_one("#deploy-name", Input)
        name.value = "Weather EU"
        await pilot.press("ctrl+s")
        error = plain(wizard.query_one("#deploy-name-error", Static))
        assert "name: String should match pattern" in error
        assert "ctrl+n" not in error
        assert not wizard.check_action("free_name", ())
        await pilot.press("ctrl+n")
        assert name.value == "Weather EU"


async def test_a_refused_field_below_the_fold_is_scrolled_into_view_and_focused() -> None:
    refusal = Invalid("memory_limit_mb: more than this host has (2048 MB)", field="memory_limit_mb")
    client = await _client(refusal)
    app = console(client)
    async with app.run_test(size=SMALL) as pilot:
        wizard = await open_wizard(pilot)
        memory = wizard.query_one("#deploy-memory", Input)
        assert not on_screen(memory)  # the runtime settings start below the fold
        wizard.query_one("#cfg-0", Input).value = "sk-123"
        memory.value = "100000"
        await _submit(pilot, wizard)

        error = wizard.query_one("#deploy-memory-error", Static)
        assert "more than this host has" in plain(error)
        assert memory.has_focus
        assert on_screen(memory)
        assert on_screen(error)
        # Only the field in error says so; the line for complaints without a field is empty.
        assert not wizard.query_one("#deploy-error", Static).display
        assert not wizard.query_one("#deploy-name-error", Static).display


async def test_a_refused_config_value_is_named_under_its_input_on_screen() -> None:
    client = await _client()
    app = console(client)
    async with app.run_test(size=SMALL) as pilot:
        wizard = await open_wizard(pilot)
        wizard.query_one("#cfg-0", Input).value = "sk-123"
        wizard.query_one("#deploy-name", Input).value = "weather-eu"
        cache = wizard.query_one("#cfg-2", Input)
        cache.value = "12.5"  # typed text is the backend's to coerce: it refuses this
        await _submit(pilot, wizard)

        error = wizard.query_one("#cfg-2-error", Static)
        assert "config.CACHE_SECONDS: must be an integer" in plain(error)
        assert cache.has_focus
        assert on_screen(cache)
        assert on_screen(error)


async def test_a_refusal_without_a_field_shows_atop_the_form() -> None:
    client = await _client(Invalid("the catalog withdrew this version a moment ago"))
    app = console(client)
    async with app.run_test(size=SMALL) as pilot:
        wizard = await open_wizard(pilot)
        wizard.query_one("#cfg-0", Input).value = "sk-123"
        wizard.query_one(DeploySettings).scroll_end(animate=False)
        await _submit(pilot, wizard)

        general = wizard.query_one("#deploy-error", Static)
        assert "withdrew this version" in plain(general)
        assert on_screen(general)
        assert not wizard.check_action("free_name", ())


@pytest.mark.parametrize(
    ("wanted", "taken", "offered"),
    [
        ("git", {"git"}, "git-2"),
        ("git", {"git", "git-2", "git-3"}, "git-4"),
        ("git-2", {"git", "git-2"}, "git-3"),
        ("db-2026", {"db-2026"}, "db-2026-2"),  # a year is part of the name, not a counter
        ("a" * 63, {"a" * 63}, "a" * 61 + "-2"),
        ("ab-" + "c" * 60, {"ab-" + "c" * 60}, "ab-" + "c" * 58 + "-2"),
    ],
)
def test_free_name(wanted: str, taken: set[str], offered: str) -> None:
    assert free_name(wanted, taken) == offered
    assert len(offered) <= 63
