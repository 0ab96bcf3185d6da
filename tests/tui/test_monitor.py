"""The monitor: live figures every second, why an instance is red, draining and killing
sessions, the log pane's filters and pause, panes, and the ways in (keys, ``:``, palette)."""

from __future__ import annotations

from collections.abc import Callable

from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot

from mcp_console.app import ConsoleApp
from mcp_console.messages import DeploymentOpenRequested
from mcp_console.schemas.deploy import HealthState, InstanceStatus
from mcp_console.schemas.errors import Unavailable
from mcp_console.schemas.monitor import SessionState
from mcp_console.screens.deployments import DeploymentsScreen
from mcp_console.screens.help import HelpScreen
from mcp_console.screens.modals.confirm import ConfirmModal
from mcp_console.screens.modals.error import ErrorModal
from mcp_console.screens.monitor import MonitorScreen
from mcp_console.widgets.charts import Chart
from mcp_console.widgets.instances import WhyPanel
from mcp_console.widgets.log_view import LogView
from mcp_console.widgets.monitor_panes import PANES
from tests.fakes import FakeClient
from tests.tui.helpers import SIZE, console, plain, screen_text, text_of, wait_until
from tests.tui.sample import sample_catalog
from tests.tui.sample_deployments import live_client

SMALL = (80, 24)


async def _monitor(pilot: Pilot[None], name: str | None = "weather-eu") -> MonitorScreen:
    app = pilot.app
    if name is None:
        await pilot.press("escape", "3")
    else:
        app.post_message(DeploymentOpenRequested(name))
    await wait_until(pilot, lambda: isinstance(app.screen, MonitorScreen), "the monitor")
    monitor = app.screen
    assert isinstance(monitor, MonitorScreen)
    await wait_until(pilot, lambda: monitor.chosen, "the deployment")
    if monitor.detail is not None:
        await wait_until(pilot, lambda: monitor.polls > 0, "the first figures")
    await pilot.pause(0.1)
    return monitor


def _session_states(monitor: MonitorScreen) -> dict[str, str]:
    table = monitor.sessions_table
    return {key: str(table.get_row(key)[1]) for key in table.keys}


async def test_the_head_instances_and_why_a_red_instance_is_red() -> None:
    app = console(live_client())
    async with app.run_test(size=SIZE) as pilot:
        monitor = await _monitor(pilot)
        head = text_of(pilot, "#monitor-head")
        assert "weather-eu  ▲ DEGRADED  acme/weather 2.1.0 · 1/2 healthy" in head
        assert "15.9 req/s · errors 1.4% · p50 38 ms · p95 140 ms" in head
        assert "3 session(s)" in head
        assert "why: 1 of 2 instances healthy" in head

        # The red instance is chosen first, with its reasons and the end of its stderr.
        assert monitor.instances_table.highlighted_key == "weather-eu-2"
        why = plain(monitor.query_one(WhyPanel))
        assert "why: exited with code 1 before answering initialize (exit code 1)" in why
        assert "weather.AuthError: the API key was refused (401)" in why
        healthy = [str(c) for c in monitor.instances_table.get_row("weather-eu-1")]
        assert healthy[:4] == ["weather-eu-1", "● RUNNING", "✓ HEALTHY", "12.0"]
        await pilot.press("right_square_bracket")  # to the instances
        await pilot.pause(0.1)
        assert monitor.pane == "instances"
        await pilot.press("up")
        await wait_until(
            pilot, lambda: "why:" not in plain(monitor.query_one(WhyPanel)), "the healthy one"
        )
        assert "weather-eu-1 ● RUNNING · ✓ HEALTHY" in plain(monitor.query_one(WhyPanel))


async def test_figures_refresh_every_second_and_the_charts_grow() -> None:
    client = live_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        monitor = await _monitor(pilot, "weather")
        requests = monitor.query_one("#chart-requests", Chart)
        assert len(requests.series[0].points) == 60
        cpu = monitor.query_one("#chart-cpu", Chart)
        assert [s.label for s in cpu.series] == ["weather-1", "weather-2"]
        assert all(len(s.points) == 1 for s in cpu.series)
        for step in range(1, 4):
            client.live.advance()

            # A poll already under way may still bring the second before: wait for this one.
            def arrived(n: int = 1 + step) -> bool:
                return len(monitor.usage) == n

            await wait_until(pilot, arrived, "the next second")
        assert [len(s.points) for s in cpu.series] == [4, 4]
        assert [x for x, _ in cpu.series[0].points] == [-3.0, -2.0, -1.0, 0.0]

        # Another screen on top: polling stops; back on the monitor it resumes.
        await pilot.press("2")
        await wait_until(pilot, lambda: isinstance(app.screen, DeploymentsScreen), "the list")
        calls = client.calls.count("deployment_metrics")
        await pilot.pause(2.5)
        assert client.calls.count("deployment_metrics") == calls
        await pilot.press("3")
        await wait_until(
            pilot, lambda: client.calls.count("deployment_metrics") > calls, "polling again"
        )


def _polled_after(monitor: MonitorScreen, polls: int) -> Callable[[], bool]:
    return lambda: monitor.polls > polls


async def test_drain_then_kill_a_session() -> None:
    client = live_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        monitor = await _monitor(pilot)
        newest = "e2d5e6f7b1c3a8"
        assert monitor.sessions_table.keys == [newest, "e281e4d2aa9c07", "e23a9c21d0e44b"]
        await pilot.press("right_square_bracket", "right_square_bracket")
        await pilot.pause(0.1)
        assert monitor.pane == "sessions"
        assert monitor.sessions_table.has_focus

        await pilot.press("d")
        await wait_until(
            pilot, lambda: _session_states(monitor)[newest] == "◑ draining", "draining"
        )
        assert client.live.sessions["weather-eu"][0].state is SessionState.DRAINING
        assert monitor.check_action("drain", ()) is False  # already draining

        await pilot.press("k")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
        assert "Its 2 request(s) in flight are cancelled" in screen_text(pilot)
        await pilot.press("y")
        await wait_until(pilot, lambda: newest not in monitor.sessions_table.keys, "the kill")
        assert [s.id for s in client.live.sessions["weather-eu"]] == [
            "e281e4d2aa9c07",
            "e23a9c21d0e44b",
        ]
        await wait_until(pilot, lambda: "2 session(s)" in text_of(pilot, "#monitor-head"), "head")


async def test_logs_filter_by_text_regex_and_inverse() -> None:
    app = console(live_client())
    async with app.run_test(size=SIZE) as pilot:
        monitor = await _monitor(pilot)
        logs = monitor.query_one(LogView)
        await wait_until(pilot, lambda: len(logs.shown_lines) == 18, "every line")

        await pilot.press("slash")
        await wait_until(pilot, lambda: logs.filter_input.has_focus, "the filter")
        await pilot.press(*"atlantis")
        assert logs.shown_lines == [
            "weather-eu-1 │ ERROR tools/call forecast place=Atlantis → place not found",
            "weather-eu-2 │ ERROR tools/call forecast place=Atlantis → place not found",
        ]
        assert '2 of 18 line(s): lines containing "atlantis"' in text_of(pilot, "#log-status")

        logs.filter_input.value = "/^(WARN|ERROR) /"
        await pilot.pause(0.1)
        assert len(logs.shown_lines) == 4
        assert all(" WARN " in line or " ERROR " in line for line in logs.shown_lines)

        logs.filter_input.value = "!/^(INFO|WARN|ERROR) /"
        await pilot.pause(0.1)
        assert logs.shown_lines[0] == "weather-eu-2 │ Traceback (most recent call last):"
        assert len(logs.shown_lines) == 6

        # A bad regex says what is wrong and keeps the last good filter.
        logs.filter_input.value = "/(unclosed/"
        await pilot.pause(0.1)
        assert "regex /(unclosed/: missing ), unterminated subpattern at position 0" in text_of(
            pilot, "#log-status"
        )
        assert logs.filter_input.has_class("-invalid")
        assert len(logs.shown_lines) == 6

        logs.filter_input.value = ""
        await pilot.pause(0.1)
        assert len(logs.shown_lines) == 18


async def test_logs_pause_holds_new_lines_and_follow_shows_them() -> None:
    client = live_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        monitor = await _monitor(pilot)
        logs = monitor.query_one(LogView)
        await wait_until(pilot, lambda: len(logs.shown_lines) == 18, "every line")

        client.live.write("weather-eu", "weather-eu-1", "INFO  tools/call alerts → 200 in 9 ms")
        await wait_until(pilot, lambda: len(logs.shown_lines) == 19, "the new line")
        assert logs.shown_lines[-1].endswith("tools/call alerts → 200 in 9 ms")

        await pilot.press("p")
        assert logs.paused
        client.live.write("weather-eu", "weather-eu-1", "INFO  held while paused")
        await wait_until(pilot, lambda: logs.held == 1, "the held line")
        assert len(logs.shown_lines) == 19
        assert "paused · 1 new line(s) held" in text_of(pilot, "#log-status")

        await pilot.press("p")  # follow again
        assert not logs.paused
        assert logs.shown_lines[-1] == "weather-eu-1 │ INFO  held while paused"
        assert text_of(pilot, "#log-status").startswith("▶ following · 20 line(s)")


async def test_events_refresh_the_instances_and_a_deleted_deployment_says_it_is_gone() -> None:
    client = live_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        monitor = await _monitor(pilot)
        eu = client.deployments["weather-eu"]
        healed = [
            i.model_copy(update={"status": InstanceStatus.RUNNING, "health": HealthState.HEALTHY})
            for i in eu.instances
        ]
        client.deployments["weather-eu"] = eu.model_copy(update={"instances": healed})
        client.emit({"type": "instance.health", "deployment": "weather-eu", "health": "HEALTHY"})
        table = monitor.instances_table
        await wait_until(
            pilot, lambda: str(table.get_row("weather-eu-2")[2]) == "✓ HEALTHY", "healthy"
        )

        del client.deployments["weather-eu"]
        await wait_until(pilot, lambda: monitor.detail is None, "the deployment to go")
        assert "weather-eu no longer exists" in text_of(pilot, "#monitor-empty")


async def test_with_no_deployments_the_monitor_says_how_to_make_one() -> None:
    app = console(FakeClient(sample_catalog()))
    async with app.run_test(size=SMALL) as pilot:
        monitor = await _monitor(pilot, None)
        assert monitor.detail is None
        assert "Nothing to watch: there are no deployments yet." in text_of(pilot, "#monitor-empty")
        assert monitor.check_action("scale", ()) is False


async def test_narrow_terminals_show_one_pane_at_a_time() -> None:
    app = console(live_client())
    async with app.run_test(size=SMALL) as pilot:
        monitor = await _monitor(pilot)
        assert monitor.has_class("-narrow")
        assert [p for p in PANES if _visible(monitor, p)] == ["charts"]
        await pilot.press("left_square_bracket")  # round to the last pane: the tools
        await pilot.pause(0.1)
        assert [p for p in PANES if _visible(monitor, p)] == ["tools"]
        await pilot.press("left_square_bracket")
        await pilot.pause(0.1)
        assert [p for p in PANES if _visible(monitor, p)] == ["logs"]
        # `p` is offered where the log is on screen, and `d` only where the sessions are.
        assert monitor.check_action("pause", ()) is True
        assert monitor.check_action("drain", ()) is False


def _visible(monitor: MonitorScreen, pane: str) -> bool:
    return monitor.query_one(f"#pane-{pane}").display


async def test_colon_help_and_palette_reach_the_monitor() -> None:
    client = live_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app, ConsoleApp)
        await pilot.press("escape", "colon", *"deployments", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DeploymentsScreen), "the list")
        deployments = app.screen
        assert isinstance(deployments, DeploymentsScreen)
        await wait_until(pilot, lambda: deployments.loaded, "the deployments")
        await pilot.press("colon", *"monitor", "enter")
        monitor = await _monitor(pilot, None)
        assert monitor.deployment_name == "github"  # the first, when none was chosen

        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        local = {text: key for key, text in app.screen.keys}
        assert local["Next pane"] == "]"
        assert local["Scale"] == "s"
        assert "!text  !/regex/" in screen_text(pilot)
        await pilot.press("escape")

        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"monitor weather-eu")
        hits = app.screen.query_one(CommandList)
        await wait_until(pilot, lambda: bool(hits.options), "the command")
        assert "Monitor weather-eu" in str(hits.options[0].prompt)
        await pilot.press("enter")
        await wait_until(pilot, lambda: monitor.deployment_name == "weather-eu", "weather-eu")


async def test_a_failing_figure_source_is_reported_once_and_the_rest_still_shows() -> None:
    client = live_client(failures={"deployment_metrics": Unavailable("the gateway is gone")})
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        app.post_message(DeploymentOpenRequested("weather-eu"))
        await wait_until(pilot, lambda: isinstance(app.screen, ErrorModal), "the error")
        assert "the gateway is gone" in screen_text(pilot)
        await pilot.press("escape")
        monitor = app.screen
        assert isinstance(monitor, MonitorScreen)
        polls = monitor.polls
        await wait_until(pilot, _polled_after(monitor, polls + 1), "two more polls")
        # Polled every second, still failing, yet no second dialog.
        assert not isinstance(app.screen, ErrorModal)
        head = text_of(pilot, "#monitor-head")
        assert "✗ live figures: the gateway is gone" in head
        assert "waiting for the first figures" in head
        assert len(monitor.sessions_table.keys) == 3
        assert len(monitor.query_one(LogView).shown_lines) == 18
