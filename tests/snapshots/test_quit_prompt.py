"""Snapshots of the quit prompt of a console hosting its own backend (fake client, frozen
clock), at 80x24: containers and processes running, and processes only.

Update them with ``pytest tests/snapshots --snapshot-update`` after a deliberate change, and
look at the report pytest prints before committing the new SVGs.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from mcp_console.app import ConsoleApp
from mcp_console.screens.modals.quit import QuitModal, RunningWork
from tests.fakes import FakeClient
from tests.tui.helpers import wait_until
from tests.tui.sample import frozen_clock, sample_catalog

Compare = Callable[..., bool]
SMALL = (80, 24)


def _console(work: RunningWork) -> ConsoleApp:
    async def running() -> RunningWork:
        return work

    return ConsoleApp(
        FakeClient(sample_catalog()), clock=frozen_clock, steady_cursor=True, running=running
    )


async def _quit(pilot: Pilot[None]) -> None:
    await pilot.press("escape", "q")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, QuitModal), "the quit prompt")
    await pilot.pause(0.2)


def test_quit_prompt_with_containers_and_processes(snap_compare: Compare) -> None:
    names = ("weather", "weather-eu", "bob/time", "git", "search", "fetch")
    work = RunningWork(names, containers=4, processes=2)
    assert snap_compare(_console(work), terminal_size=SMALL, run_before=_quit)


def test_quit_prompt_with_one_process(snap_compare: Compare) -> None:
    work = RunningWork(("calc",), processes=1)
    assert snap_compare(_console(work), terminal_size=SMALL, run_before=_quit)
