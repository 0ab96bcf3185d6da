"""The monitor over a range: `t` steps through live, 15m … 30d, `b` splits the charts by
instance, tool or user, and the tools pane holds each tool's calls, errors and p95."""

from __future__ import annotations

from textual.pilot import Pilot

from mcp_console.app import ConsoleApp
from mcp_console.messages import DeploymentOpenRequested
from mcp_console.schemas.errors import Unavailable
from mcp_console.screens.modals.error import ErrorModal
from mcp_console.screens.monitor import MonitorScreen
from mcp_console.widgets.charts import Chart
from tests.fakes import FakeClient
from tests.tui.helpers import SIZE, console, text_of, wait_until
from tests.tui.sample_deployments import live_client

SMALL = (80, 24)


async def _monitor(pilot: Pilot[None], name: str = "weather") -> MonitorScreen:
    app = pilot.app
    app.post_message(DeploymentOpenRequested(name))
    await wait_until(pilot, lambda: isinstance(app.screen, MonitorScreen), "the monitor")
    monitor = app.screen
    assert isinstance(monitor, MonitorScreen)
    await wait_until(pilot, lambda: monitor.polls > 0, "the first figures")
    await wait_until(pilot, lambda: monitor.history_loads > 0, "the tools' figures")
    return monitor


async def _press(pilot: Pilot[None], monitor: MonitorScreen, key: str) -> None:
    loads = monitor.history_loads
    await pilot.press(key)
    await wait_until(pilot, lambda: monitor.history_loads > loads, f"the history after {key}")
    await pilot.pause(0.1)


def _chart(monitor: MonitorScreen, name: str) -> Chart:
    return monitor.query_one(f"#chart-{name}", Chart)


def _history_calls(client: FakeClient) -> int:
    return client.calls.count("metrics_history")


async def test_t_steps_through_the_ranges_and_back_to_live() -> None:
    client = live_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        monitor = await _monitor(pilot)
        requests = _chart(monitor, "requests")
        assert requests.span == 60  # live: the last minute, as before
        assert len(requests.series[0].points) == 60
        await _press(pilot, monitor, "t")
        assert monitor.period == "15m"
        assert monitor.ranged is not None
        assert monitor.ranged.period.value == "15m"
        # 15 minutes in 10-second steps, drawn over 900 seconds.
        assert requests.span == 900
        assert [s.label for s in requests.series] == ["req/s"]
        assert len(requests.series[0].points) == 90
        assert [s.label for s in _chart(monitor, "latency").series] == ["p50", "p95"]
        assert monitor.query_one("#pane-charts").border_title == "Charts · 15m · total"
        for period, span in (("1h", 3600), ("24h", 86400), ("7d", 7 * 86400), ("30d", 30 * 86400)):
            await _press(pilot, monitor, "t")
            assert monitor.period == period
            assert requests.span == span
        await _press(pilot, monitor, "t")  # round to live again
        assert monitor.period == "live"
        assert requests.span == 60
        assert [s.label for s in requests.series] == ["req/s"]
        assert len(requests.series[0].points) == 60
        await _press(pilot, monitor, "T")  # and back
        assert monitor.period == "30d"


async def test_b_splits_the_charts_by_instance_tool_and_user() -> None:
    client = live_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        monitor = await _monitor(pilot)
        await _press(pilot, monitor, "b")  # from live: over the last 15 minutes
        assert (monitor.period, monitor.by) == ("15m", "instance")
        instances = ["weather-1", "weather-2"]
        assert [s.label for s in _chart(monitor, "requests").series] == instances
        assert [s.label for s in _chart(monitor, "cpu").series] == instances
        await _press(pilot, monitor, "b")
        assert [s.label for s in _chart(monitor, "latency").series] == ["add", "echo"]
        # Instance figures have no split by tool: the total stands in.
        assert [s.label for s in _chart(monitor, "cpu").series] == ["all"]
        await _press(pilot, monitor, "t")  # the breakdown stays with a new range
        assert (monitor.period, monitor.by) == ("1h", "tool")
        assert monitor.query_one("#pane-charts").border_title == "Charts · 1h · by tool"
        await _press(pilot, monitor, "b")
        assert [s.label for s in _chart(monitor, "requests").series] == ["admin"]
        await _press(pilot, monitor, "b")
        assert monitor.by is None
        assert [s.label for s in _chart(monitor, "latency").series] == ["p50", "p95"]


async def test_the_tools_pane_lists_each_tools_calls_errors_and_p95() -> None:
    client = live_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        monitor = await _monitor(pilot)
        history = monitor.ranged
        assert history is not None
        assert history.period.value == "15m"
        table = monitor.panes.tools_table
        assert table.keys == ["add", "echo"]
        row = [str(cell) for cell in table.get_row("add")]
        assert row[:3] == ["add", f"{history.tools[0].calls:,}", "0"]
        assert row[5] == f"{history.tools[0].p95_ms:.0f} ms"
        assert monitor.query_one("#pane-tools").border_title == "Tools · 15m"
        for _ in range(3):
            await _press(pilot, monitor, "t")  # 24h
        assert monitor.query_one("#pane-tools").border_title == "Tools · 24h"
        assert monitor.ranged is not None
        assert row != [str(cell) for cell in table.get_row("add")]  # a day holds more calls


async def test_a_range_at_80x24_brings_the_charts_forward_and_names_the_choice() -> None:
    app = console(live_client())
    async with app.run_test(size=SMALL) as pilot:
        monitor = await _monitor(pilot)
        await pilot.press("left_square_bracket")  # the tools pane
        await pilot.pause(0.1)
        assert monitor.pane == "tools"
        assert monitor.panes.tools_table.display
        await _press(pilot, monitor, "t")
        assert monitor.pane == "charts"
        await _press(pilot, monitor, "b")
        assert "t 15m · by instance" in text_of(pilot, "#monitor-panes")


async def test_history_is_read_again_while_on_screen_not_every_second() -> None:
    client = live_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        monitor = await _monitor(pilot)
        await _press(pilot, monitor, "t")
        reads, polls = _history_calls(client), monitor.polls
        await wait_until(pilot, lambda: _history_calls(client) > reads, "a refresh", seconds=15)
        # The live figures were polled every second meanwhile; the history much less often.
        assert monitor.polls - polls >= 5
        assert _history_calls(client) == reads + 1


async def test_a_history_that_cannot_be_read_is_reported_once() -> None:
    client = live_client(failures={"metrics_history": Unavailable("the history store is gone")})
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app, ConsoleApp)
        app.post_message(DeploymentOpenRequested("weather"))
        await wait_until(pilot, lambda: isinstance(app.screen, ErrorModal), "the error")
        assert "the history store is gone" in text_of(pilot, "#error-message")
        await pilot.press("escape")
        monitor = app.screen
        assert isinstance(monitor, MonitorScreen)
        await pilot.press("t")
        await pilot.pause(0.3)
        # Another range fails the same way: no second dialog; the live figures go on.
        assert isinstance(app.screen, MonitorScreen)
        assert monitor.polls > 0
