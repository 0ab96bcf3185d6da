"""The deployments screen: statuses and figures, scale, rollback, update, stop/start, delete,
history, live refresh, and the wizard that ends on the new deployment's monitor."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from mcp_console.schemas.deploy import DeploymentStatus, DesiredState, HealthState, InstanceStatus
from mcp_console.schemas.errors import Unavailable
from mcp_console.screens.deployments import DeploymentsScreen
from mcp_console.screens.modals.confirm import ConfirmModal
from mcp_console.screens.modals.error import ErrorModal
from mcp_console.screens.modals.history import HistoryModal
from mcp_console.screens.modals.scale import ScaleModal
from mcp_console.screens.modals.update import UpdateModal
from mcp_console.screens.monitor import MonitorScreen
from mcp_console.screens.service_detail import ServiceDetailScreen
from tests.fakes import FakeClient
from tests.tui.helpers import (
    SIZE,
    console,
    open_deployments,
    open_wizard,
    screen_text,
    text_of,
    wait_until,
)
from tests.tui.sample import sample_catalog
from tests.tui.sample_deployments import live_client


def _row(screen: DeploymentsScreen, name: str) -> list[str]:
    return [str(cell) for cell in screen.table.get_row(name)]


async def _choose(pilot: Pilot[None], screen: DeploymentsScreen, name: str) -> None:
    screen.table.select(name)
    await pilot.pause()
    assert screen.selected_deployment() is not None
    assert screen.table.highlighted_key == name


async def test_the_list_shows_every_status_with_versions_replicas_and_live_figures() -> None:
    app = console(live_client())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot)
        assert screen.table.keys == ["github", "postgres", "slack", "weather", "weather-eu"]
        weather = _row(screen, "weather")
        assert weather[:4] == ["weather", "● RUNNING", "2.1.0", "2/2"]
        assert weather[4] == "15.9"  # req/s over the gateway's last minute
        assert weather[5] == "1.4%"
        assert _row(screen, "weather-eu")[1:4] == ["▲ DEGRADED", "2.1.0", "1/2"]
        assert _row(screen, "slack")[1] == "✗ FAILED"
        assert _row(screen, "postgres")[1:6] == ["■ STOPPED", "1.0.0", "0/1", "—", "—"]
        status = text_of(pilot, "#deployments-status")
        assert "5 deployment(s)" in status
        assert "1 failed" in status

        await _choose(pilot, screen, "slack")
        assert "crash loop: slack-1 exited 5 times" in text_of(pilot, "#deployments-why")

        await pilot.press("slash", *"weather")
        await wait_until(pilot, lambda: screen.table.keys == ["weather", "weather-eu"], "filter")
        assert "2 shown" in text_of(pilot, "#deployments-status")


async def test_scale_refuses_a_bad_count_in_place_then_scales_and_rollback_rolls_back() -> None:
    client = live_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot)
        await _choose(pilot, screen, "weather")

        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, ScaleModal), "the scale dialog")
        modal = app.screen
        assert "Autoscaling is on: it keeps the count between 1 and 4" in screen_text(pilot)
        field = modal.query_one("#scale-replicas", Input)
        assert field.value == "2"
        field.value = "99"
        await pilot.press("enter")
        assert "replicas: must be between 0 and 50, got 99" in text_of(pilot, "#scale-error")
        assert field.has_class("-invalid")
        assert client.deployments["weather"].replicas == 2  # nothing was sent
        field.value = "3"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen, "the dialog to close")
        assert client.deployments["weather"].replicas == 3
        await wait_until(pilot, lambda: _row(screen, "weather")[3] == "2/3", "the new count")
        assert _row(screen, "weather")[1] == "◌ DEPLOYING"

        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
        assert "Roll weather back to 2.0.0?" in screen_text(pilot)
        await pilot.press("y")
        await wait_until(
            pilot, lambda: client.deployments["weather"].version == "2.0.0", "the rollback"
        )
        assert client.deployments["weather"].previous_version == "2.1.0"
        await wait_until(pilot, lambda: _row(screen, "weather")[2] == "2.0.0", "the version")

        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryModal), "the history")
        history = app.screen
        assert isinstance(history, HistoryModal)
        assert [e.action for e in history.entries][:3] == ["rollback", "scale", "scale"]
        text = screen_text(pilot)
        assert "system (auto)" in text
        assert "in flight 9.2 per instance" in text
        await pilot.press("escape")
        assert app.screen is screen


async def test_rollback_is_offered_only_with_a_previous_version() -> None:
    app = console(live_client())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot)
        await _choose(pilot, screen, "github")
        assert screen.check_action("rollback", ()) is False
        await pilot.press("r")
        assert app.screen is screen
        await _choose(pilot, screen, "weather-eu")
        assert screen.check_action("rollback", ()) is True


async def test_update_offers_the_published_versions_and_rolls_out_the_chosen_one() -> None:
    client = live_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot)
        await _choose(pilot, screen, "weather")
        await pilot.press("u")
        await wait_until(pilot, lambda: isinstance(app.screen, UpdateModal), "the versions")
        options = app.screen.query_one(OptionList)
        labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert labels == ["2.1.0  running, latest", "2.2.0-rc.1  pre-release", "2.0.0"]
        assert options.get_option_at_index(0).disabled
        assert "Hourly forecasts (preview)" in text_of(pilot, "#update-changelog")
        await pilot.press("down", "enter")  # 2.0.0
        await wait_until(pilot, lambda: app.screen is screen, "the dialog to close")
        assert client.deployments["weather"].version == "2.0.0"


async def test_stop_asks_first_start_does_not_and_delete_asks_then_removes() -> None:
    client = live_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot)
        await _choose(pilot, screen, "weather")
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
        await pilot.press("y")
        await wait_until(
            pilot, lambda: client.deployments["weather"].status is DeploymentStatus.STOPPED, "stop"
        )
        await wait_until(pilot, lambda: _row(screen, "weather")[1] == "■ STOPPED", "the badge")
        assert client.deployments["weather"].desired_state is DesiredState.STOPPED

        await pilot.press("x")  # now it starts, without a question
        await wait_until(
            pilot, lambda: client.deployments["weather"].desired_state is DesiredState.RUNNING, "go"
        )
        assert not isinstance(app.screen, ConfirmModal)

        await pilot.press("ctrl+d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
        assert "This cannot be undone." in screen_text(pilot)
        await pilot.press("n")
        await pilot.pause(0.1)
        assert "weather" in client.deployments

        await pilot.press("ctrl+d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
        await pilot.press("y")
        await wait_until(pilot, lambda: "weather" not in screen.table.keys, "the row to go")
        assert "weather" not in client.deployments


async def test_backend_events_refresh_the_rows() -> None:
    client = live_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot)
        eu = client.deployments["weather-eu"]
        healed = [
            i.model_copy(update={"status": InstanceStatus.RUNNING, "health": HealthState.HEALTHY})
            for i in eu.instances
        ]
        client.deployments["weather-eu"] = eu.model_copy(
            update={
                "status": DeploymentStatus.RUNNING,
                "ready_replicas": 2,
                "instances": healed,
                "status_reason": None,
            }
        )
        client.emit({"type": "deployment.status", "deployment": "weather-eu", "status": "RUNNING"})
        await wait_until(
            pilot, lambda: _row(screen, "weather-eu")[1:4] == ["● RUNNING", "2.1.0", "2/2"], "row"
        )


async def test_an_unreachable_backend_opens_the_error_dialog_and_says_so_in_the_list() -> None:
    client = live_client(failures={"list_deployments": Unavailable("the daemon is gone")})
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape", "2")
        await wait_until(pilot, lambda: isinstance(app.screen, ErrorModal), "the error")
        assert "the daemon is gone" in screen_text(pilot)
        await pilot.press("escape")
        screen = app.screen
        assert isinstance(screen, DeploymentsScreen)
        assert "Could not load deployments: the daemon is gone" in text_of(
            pilot, "#deployments-status"
        )


async def test_enter_opens_the_monitor_and_l_its_logs() -> None:
    app = console(live_client())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_deployments(pilot)
        await _choose(pilot, screen, "weather-eu")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, MonitorScreen), "the monitor")
        monitor = app.screen
        assert isinstance(monitor, MonitorScreen)
        assert monitor.deployment_name == "weather-eu"
        await pilot.press("escape")  # up to the list
        await wait_until(pilot, lambda: app.screen is screen, "the list")
        await _choose(pilot, screen, "weather")
        await pilot.press("l")
        await wait_until(pilot, lambda: app.screen is monitor, "the monitor")
        await wait_until(pilot, lambda: monitor.deployment_name == "weather", "weather")
        assert monitor.pane == "logs"


async def test_the_wizard_lands_on_the_monitor_of_the_new_deployment() -> None:
    client = FakeClient(sample_catalog(), ready_after=1)
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        wizard = await open_wizard(pilot)
        detail = app.screen_stack[-2]  # the service's page, under the wizard
        assert isinstance(detail, ServiceDetailScreen)
        wizard.query_one("#cfg-0", Input).value = "sk-123"
        await pilot.press("ctrl+s")
        assert wizard.step == "review"
        await pilot.press("ctrl+s")

        await wait_until(pilot, lambda: isinstance(app.screen, MonitorScreen), "the monitor")
        monitor = app.screen
        assert isinstance(monitor, MonitorScreen)
        assert app.current_mode == "monitor"
        assert monitor.deployment_name == "weather"
        await wait_until(pilot, lambda: monitor.polls > 0, "the first figures")
        assert client.deployments["weather"].status is DeploymentStatus.RUNNING
        head = text_of(pilot, "#monitor-head")
        assert "weather" in head
        assert "● RUNNING" in head
        assert "1/1 healthy" in head

        await pilot.press("1")  # the finished wizard is gone: the market shows the service
        assert app.screen is detail
