"""Snapshots of the deployments list and the monitor in every state (fake client, frozen clock).

Most are taken at 80x24, the smallest terminal the console supports, where the monitor shows
one pane at a time; the full monitor is taken at 200x60. Update them with
``pytest tests/snapshots --snapshot-update`` after a deliberate change, and look at the report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from mcp_console.messages import DeploymentOpenRequested
from mcp_console.schemas.errors import Unavailable
from mcp_console.screens.deployments import DeploymentsScreen
from mcp_console.screens.modals.confirm import ConfirmModal
from mcp_console.screens.modals.error import ErrorModal
from mcp_console.screens.modals.history import HistoryModal
from mcp_console.screens.modals.scale import ScaleModal
from mcp_console.screens.modals.update import UpdateModal
from mcp_console.screens.monitor import MonitorScreen
from mcp_console.widgets.log_view import LogView
from tests.fakes import FakeClient
from tests.tui.helpers import console, open_deployments, wait_until
from tests.tui.sample import sample_catalog
from tests.tui.sample_deployments import live_client

Compare = Callable[..., bool]
SMALL = (80, 24)
HUGE = (200, 60)


async def _deployments(pilot: Pilot[None], cursor: str | None = "weather-eu") -> DeploymentsScreen:
    screen = await open_deployments(pilot)
    if cursor is not None:
        screen.table.select(cursor)
    await pilot.pause(0.2)
    return screen


async def _modal(pilot: Pilot[None], key: str, kind: type, cursor: str = "weather") -> None:
    await _deployments(pilot, cursor)
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, kind), "the dialog")
    await pilot.pause(0.2)


async def _monitor(pilot: Pilot[None], name: str | None = "weather-eu", panes: int = 0) -> None:
    app = pilot.app
    await pilot.press("escape")
    if name is None:
        await pilot.press("3")
    else:
        app.post_message(DeploymentOpenRequested(name))
    await wait_until(pilot, lambda: isinstance(app.screen, MonitorScreen), "the monitor")
    monitor = app.screen
    assert isinstance(monitor, MonitorScreen)
    await wait_until(pilot, lambda: monitor.chosen, "the deployment")
    if monitor.detail is not None:
        await wait_until(pilot, lambda: monitor.polls > 0, "the first figures")
        await wait_until(pilot, lambda: monitor.history_loads > 0, "the tools' figures")
    for _ in range(panes):
        await pilot.press("right_square_bracket")
    await pilot.pause(0.3)


def _client(**kwargs: Any) -> FakeClient:
    return live_client(**kwargs)


def _has_samples(monitor: MonitorScreen, count: int) -> Callable[[], bool]:
    return lambda: len(monitor.usage) == count


async def _samples(pilot: Pilot[None], count: int) -> None:
    """Let the monitor take ``count`` samples, one fake second apart (its charts per instance
    are drawn from what it has seen)."""
    monitor = pilot.app.screen
    assert isinstance(monitor, MonitorScreen)
    client = pilot.app.client  # type: ignore[attr-defined]
    assert isinstance(client, FakeClient)
    while len(monitor.usage) < count:
        wanted = len(monitor.usage) + 1
        client.live.advance()
        await wait_until(pilot, _has_samples(monitor, wanted), "the next sample")
    await pilot.pause(0.2)


# --- deployments -------------------------------------------------------------------------


def test_deployments_empty(snap_compare: Compare) -> None:
    app = console(FakeClient(sample_catalog()))
    assert snap_compare(app, terminal_size=SMALL, run_before=lambda p: _deployments(p, None))


def test_deployments_loaded(snap_compare: Compare) -> None:
    assert snap_compare(console(_client()), terminal_size=SMALL, run_before=_deployments)


def test_deployments_loaded_200x60(snap_compare: Compare) -> None:
    assert snap_compare(console(_client()), terminal_size=HUGE, run_before=_deployments)


def test_deployments_backend_unreachable(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await pilot.press("escape", "2")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ErrorModal), "the error")
        await pilot.pause(0.2)

    app = console(_client(failures={"list_deployments": Unavailable("the daemon is gone")}))
    assert snap_compare(app, terminal_size=SMALL, run_before=steps)


def test_scale_modal_refuses_a_bad_count(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _modal(pilot, "s", ScaleModal)
        pilot.app.screen.query_one("#scale-replicas", Input).value = "99"
        await pilot.press("enter")
        await pilot.pause(0.2)

    assert snap_compare(console(_client()), terminal_size=SMALL, run_before=steps)


def test_update_modal(snap_compare: Compare) -> None:
    assert snap_compare(
        console(_client()), terminal_size=SMALL, run_before=lambda p: _modal(p, "u", UpdateModal)
    )


def test_delete_confirmation(snap_compare: Compare) -> None:
    assert snap_compare(
        console(_client()),
        terminal_size=SMALL,
        run_before=lambda p: _modal(p, "ctrl+d", ConfirmModal),
    )


def test_rollback_confirmation(snap_compare: Compare) -> None:
    assert snap_compare(
        console(_client()),
        terminal_size=SMALL,
        run_before=lambda p: _modal(p, "r", ConfirmModal),
    )


def test_history(snap_compare: Compare) -> None:
    assert snap_compare(
        console(_client()), terminal_size=SMALL, run_before=lambda p: _modal(p, "h", HistoryModal)
    )


# --- monitor, one pane at a time at 80x24 -------------------------------------------------


def test_monitor_charts(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _monitor(pilot)
        await _samples(pilot, 6)

    assert snap_compare(console(_client()), terminal_size=SMALL, run_before=steps)


def test_monitor_instances_with_a_red_one(snap_compare: Compare) -> None:
    assert snap_compare(
        console(_client()), terminal_size=SMALL, run_before=lambda p: _monitor(p, panes=1)
    )


def test_monitor_sessions(snap_compare: Compare) -> None:
    assert snap_compare(
        console(_client()), terminal_size=SMALL, run_before=lambda p: _monitor(p, panes=2)
    )


def test_monitor_logs(snap_compare: Compare) -> None:
    assert snap_compare(
        console(_client()), terminal_size=SMALL, run_before=lambda p: _monitor(p, panes=3)
    )


def test_monitor_logs_filtered(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _monitor(pilot)
        await pilot.press("slash")
        logs = pilot.app.screen.query_one(LogView)
        # The filter takes the focus once the log pane is shown: type only then.
        await wait_until(pilot, lambda: logs.filter_input.has_focus, "the filter")
        await pilot.press(*"/error|warn/")
        await wait_until(pilot, lambda: len(logs.shown_lines) == 6, "the six matching lines")
        await pilot.pause(0.2)

    assert snap_compare(console(_client()), terminal_size=SMALL, run_before=steps)


def test_monitor_logs_paused(snap_compare: Compare) -> None:
    client = _client()

    async def steps(pilot: Pilot[None]) -> None:
        await _monitor(pilot, panes=3)
        await pilot.press("p")
        client.live.write("weather-eu", "weather-eu-1", "INFO  held while paused", "INFO  and this")
        logs = pilot.app.screen.query_one(LogView)
        await wait_until(pilot, lambda: logs.held == 2, "the held lines")
        await pilot.pause(0.2)

    assert snap_compare(console(client), terminal_size=SMALL, run_before=steps)


def test_monitor_kill_confirmation(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _monitor(pilot, panes=2)
        await pilot.press("k")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmModal), "question")
        await pilot.pause(0.2)

    assert snap_compare(console(_client()), terminal_size=SMALL, run_before=steps)


def test_monitor_no_traffic(snap_compare: Compare) -> None:
    client = _client()
    client.live.quiet.add("weather")
    client.live.sessions.pop("weather")
    assert snap_compare(
        console(client), terminal_size=SMALL, run_before=lambda p: _monitor(p, "weather")
    )


def test_monitor_with_no_deployments(snap_compare: Compare) -> None:
    app = console(FakeClient(sample_catalog()))
    assert snap_compare(app, terminal_size=SMALL, run_before=lambda p: _monitor(p, None))


# --- monitor, every pane at once ----------------------------------------------------------


def test_monitor_loaded_200x60(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _monitor(pilot)
        await _samples(pilot, 8)

    assert snap_compare(console(_client()), terminal_size=HUGE, run_before=steps)
