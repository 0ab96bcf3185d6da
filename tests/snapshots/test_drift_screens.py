"""Snapshots of the drift view: a blocked deployment's findings and a diff, and the approval
question, at 80x24 and 200x60 (fake client, frozen clock). Update them with ``pytest
tests/snapshots --snapshot-update`` after a deliberate change, and look at the report."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from mcp_console.screens.drift import DriftScreen
from mcp_console.screens.modals.confirm import ConfirmModal
from tests.tui.helpers import console, open_deployments, wait_until
from tests.tui.sample_drift import drifting_client

Compare = Callable[..., bool]
SMALL = (80, 24)
HUGE = (200, 60)


def _drift(approve: bool = False) -> Callable[[Pilot[None]], object]:
    async def steps(pilot: Pilot[None]) -> None:
        app = pilot.app
        deployments = await open_deployments(pilot)
        deployments.table.select("weather")
        await pilot.press("D")
        await wait_until(pilot, lambda: isinstance(app.screen, DriftScreen), "the drift view")
        if approve:
            await pilot.press("a")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
        await pilot.pause(0.3)

    return steps


def test_drift_of_a_blocked_deployment(snap_compare: Compare) -> None:
    assert snap_compare(console(drifting_client()), terminal_size=SMALL, run_before=_drift())


def test_drift_of_a_blocked_deployment_200x60(snap_compare: Compare) -> None:
    assert snap_compare(console(drifting_client()), terminal_size=HUGE, run_before=_drift())


def test_drift_approval_question(snap_compare: Compare) -> None:
    assert snap_compare(
        console(drifting_client()), terminal_size=SMALL, run_before=_drift(approve=True)
    )
