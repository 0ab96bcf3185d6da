"""Snapshots of the audit view: the trail newest first, filtered, one event whole, at 80x24
and 200x60 (fake client, frozen clock). Update them with ``pytest tests/snapshots
--snapshot-update`` after a deliberate change, and look at the report."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from mcp_console.screens.audit import AuditScreen
from mcp_console.screens.modals.audit_entry import AuditEntryModal
from tests.tui.helpers import console, wait_until
from tests.tui.sample_audit import audited_client

Compare = Callable[..., bool]
SMALL = (80, 24)
HUGE = (200, 60)


def _audit(kind: str | None = None, entry: bool = False) -> Callable[[Pilot[None]], object]:
    async def steps(pilot: Pilot[None]) -> None:
        app = pilot.app
        await pilot.press("escape", "7")
        await wait_until(pilot, lambda: isinstance(app.screen, AuditScreen), "the audit")
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        await wait_until(pilot, lambda: screen.loads >= 1, "the events")
        if kind is not None:
            await pilot.press("slash", "tab")
            await pilot.press(*kind, "enter")
            await wait_until(pilot, lambda: screen.loads >= 2, "the filtered events")
        if entry:
            await pilot.press("down", "enter")
            await wait_until(pilot, lambda: isinstance(app.screen, AuditEntryModal), "it")
        await pilot.pause(0.3)

    return steps


def test_audit_trail(snap_compare: Compare) -> None:
    assert snap_compare(console(audited_client()), terminal_size=SMALL, run_before=_audit())


def test_audit_trail_200x60(snap_compare: Compare) -> None:
    assert snap_compare(console(audited_client()), terminal_size=HUGE, run_before=_audit())


def test_audit_trail_of_tool_calls(snap_compare: Compare) -> None:
    assert snap_compare(
        console(audited_client()), terminal_size=SMALL, run_before=_audit("tool.call")
    )


def test_audit_event_whole(snap_compare: Compare) -> None:
    assert snap_compare(
        console(audited_client()), terminal_size=SMALL, run_before=_audit(entry=True)
    )
