"""Snapshots of the logs view: every deployment's lines, a query, a refused query, at 80x24
and 200x60 (fake client, frozen clock). Update them with ``pytest tests/snapshots
--snapshot-update`` after a deliberate change, and look at the report."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from mcp_console.screens.logs import LogsScreen
from tests.tui.helpers import console, wait_until
from tests.tui.sample_logs import logging_client

Compare = Callable[..., bool]
SMALL = (80, 24)
HUGE = (200, 60)


def _searched(screen: LogsScreen, count: int) -> Callable[[], bool]:
    return lambda: screen.searches >= count


def _logs(query: str | None = None) -> Callable[[Pilot[None]], object]:
    async def steps(pilot: Pilot[None]) -> None:
        app = pilot.app
        await pilot.press("escape", "8")
        await wait_until(pilot, lambda: isinstance(app.screen, LogsScreen), "the logs")
        screen = app.screen
        assert isinstance(screen, LogsScreen)
        await wait_until(pilot, _searched(screen, 1), "the lines")
        if query is not None:
            await pilot.press("slash")
            await pilot.press(*query, "enter")
            await wait_until(pilot, _searched(screen, 2), "the query")
        await pilot.pause(0.3)

    return steps


def test_logs_of_every_deployment(snap_compare: Compare) -> None:
    assert snap_compare(console(logging_client()), terminal_size=SMALL, run_before=_logs())


def test_logs_of_every_deployment_200x60(snap_compare: Compare) -> None:
    assert snap_compare(console(logging_client()), terminal_size=HUGE, run_before=_logs())


def test_logs_queried(snap_compare: Compare) -> None:
    assert snap_compare(
        console(logging_client()), terminal_size=SMALL, run_before=_logs("!healthz -l warn")
    )


def test_logs_query_refused(snap_compare: Compare) -> None:
    assert snap_compare(
        console(logging_client()), terminal_size=SMALL, run_before=_logs("-d nowhere")
    )
