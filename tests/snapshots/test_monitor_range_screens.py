"""Snapshots of the monitor over a range: charts split by tool at 80x24, the tools pane, and
every pane at 200x60 over a week by instance (fake client, frozen clock)."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from mcp_console.messages import DeploymentOpenRequested
from mcp_console.screens.monitor import MonitorScreen
from tests.tui.helpers import console, wait_until
from tests.tui.sample_deployments import live_client

Compare = Callable[..., bool]
SMALL = (80, 24)
HUGE = (200, 60)


def _loaded_after(monitor: MonitorScreen, loads: int) -> Callable[[], bool]:
    return lambda: monitor.history_loads > loads


def _ranged(keys: str, panes: int = 0) -> Callable[[Pilot[None]], object]:
    """Open the monitor on weather, press ``keys`` (each waits for its history), then step
    ``panes`` panes back."""

    async def steps(pilot: Pilot[None]) -> None:
        app = pilot.app
        await pilot.press("escape")
        app.post_message(DeploymentOpenRequested("weather"))
        await wait_until(pilot, lambda: isinstance(app.screen, MonitorScreen), "the monitor")
        monitor = app.screen
        assert isinstance(monitor, MonitorScreen)
        await wait_until(pilot, lambda: monitor.history_loads > 0, "the tools' figures")
        for key in keys:
            loads = monitor.history_loads
            await pilot.press(key)
            await wait_until(pilot, _loaded_after(monitor, loads), "the history")
        for _ in range(panes):
            await pilot.press("left_square_bracket")
        await pilot.pause(0.3)

    return steps


def test_monitor_24h_by_tool(snap_compare: Compare) -> None:
    # t t t: 15m, 1h, 24h; b b: by instance, by tool.
    assert snap_compare(console(live_client()), terminal_size=SMALL, run_before=_ranged("tttbb"))


def test_monitor_tools_pane(snap_compare: Compare) -> None:
    assert snap_compare(
        console(live_client()), terminal_size=SMALL, run_before=_ranged("ttt", panes=1)
    )


def test_monitor_7d_by_instance_200x60(snap_compare: Compare) -> None:
    assert snap_compare(console(live_client()), terminal_size=HUGE, run_before=_ranged("ttttb"))
