"""From a session in the monitor to its log lines: ``L`` opens the Logs section searching them."""

from __future__ import annotations

from mcp_console.schemas.logs import LogStream
from mcp_console.screens.logs import LogsScreen
from mcp_console.screens.monitor import MonitorScreen
from tests.tui.helpers import SIZE, console, wait_until
from tests.tui.sample_deployments import live_client
from tests.tui.test_monitor import _monitor

NEWEST = "e2d5e6f7b1c3a8"


async def test_a_sessions_access_lines_open_in_the_logs_section() -> None:
    client = live_client()
    client.logs.add(
        "weather-eu",
        f"tools/call tool=forecast status=200 user=alice session={NEWEST}",
        stream=LogStream.ACCESS,
    )
    client.logs.add(
        "weather-eu",
        "tools/call tool=forecast status=200 user=bob session=e281e4d2aa9c07",
        stream=LogStream.ACCESS,
    )
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        monitor = await _monitor(pilot)
        assert monitor.check_action("logs_of", ()) is False  # the charts have no row
        await pilot.press("right_square_bracket", "right_square_bracket")
        await pilot.pause(0.1)
        assert monitor.pane == "sessions"
        assert monitor.check_action("logs_of", ()) is True

        await pilot.press("L")
        await wait_until(pilot, lambda: isinstance(app.screen, LogsScreen), "the logs")
        logs = app.screen
        assert isinstance(logs, LogsScreen)
        await wait_until(pilot, lambda: logs.searches > 0, "the search")
        query = logs.query_input.value
        assert query.startswith("-d weather-eu --since ")
        assert query.endswith(f"session={NEWEST}")
        assert [line.text for line in logs.lines] == [
            f"tools/call tool=forecast status=200 user=alice session={NEWEST}"
        ]

        await pilot.press("3")  # back to the monitor, where it was
        await wait_until(pilot, lambda: isinstance(app.screen, MonitorScreen), "the monitor")


async def test_a_tools_access_lines_open_over_the_monitors_range() -> None:
    app = console(live_client())
    async with app.run_test(size=SIZE) as pilot:
        monitor = await _monitor(pilot)
        await pilot.press(*["right_square_bracket"] * 4)
        await pilot.pause(0.1)
        assert monitor.pane == "tools"
        tools = monitor.panes.tools_table
        await wait_until(pilot, lambda: bool(tools.keys), "the tools")
        await pilot.press("L")
        await wait_until(pilot, lambda: isinstance(app.screen, LogsScreen), "the logs")
        logs = app.screen
        assert isinstance(logs, LogsScreen)
        assert logs.query_input.value == f"-d weather-eu --since 15m tool={tools.keys[0]}"
