"""Snapshots of the alerts section: alerts, rules, targets, the silence dialog and the rule
and target forms (fake client, frozen clock), at 80x24 and at 200x60. Update them with
``pytest tests/snapshots --snapshot-update`` after a deliberate change, and look at the
report."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Input

from mcp_console.screens.alerts import AlertsScreen
from mcp_console.screens.modals.alert_rule_form import AlertRuleModal
from mcp_console.screens.modals.alert_target_form import AlertTargetModal
from mcp_console.screens.modals.silence import SilenceModal
from tests.tui.helpers import console, wait_until
from tests.tui.sample_alerts import alerting_client

Compare = Callable[..., bool]
SMALL = (80, 24)
HUGE = (200, 60)


async def _alerts(pilot: Pilot[None], tabs: int = 0) -> None:
    app = pilot.app
    await pilot.press("escape", "5")
    await wait_until(pilot, lambda: isinstance(app.screen, AlertsScreen), "the alerts")
    screen = app.screen
    assert isinstance(screen, AlertsScreen)
    await wait_until(pilot, lambda: screen.loads > 0, "the alerts")
    await wait_until(pilot, lambda: "firing" in app.sub_title, "the badge")
    for _ in range(tabs):
        await pilot.press("right_square_bracket")
    await wait_until(pilot, lambda: tabs < 1 or screen.rules_loaded, "the rules")
    await wait_until(pilot, lambda: tabs < 2 or screen.targets_loaded, "the targets")
    await pilot.pause(0.3)


def test_alerts_firing_and_pending(snap_compare: Compare) -> None:
    assert snap_compare(console(alerting_client()), terminal_size=SMALL, run_before=_alerts)


def test_alerts_firing_and_pending_200x60(snap_compare: Compare) -> None:
    assert snap_compare(console(alerting_client()), terminal_size=HUGE, run_before=_alerts)


def test_alerts_with_history(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _alerts(pilot)
        await pilot.press("h")
        screen = pilot.app.screen
        assert isinstance(screen, AlertsScreen)
        await wait_until(pilot, lambda: "1" in screen.table("alerts").keys, "history")
        await pilot.pause(0.2)

    assert snap_compare(console(alerting_client()), terminal_size=SMALL, run_before=steps)


def test_alert_rules(snap_compare: Compare) -> None:
    assert snap_compare(
        console(alerting_client()), terminal_size=SMALL, run_before=lambda p: _alerts(p, 1)
    )


def test_alert_targets_with_a_waiting_delivery(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _alerts(pilot, 2)
        await pilot.press("down")
        await pilot.pause(0.2)

    assert snap_compare(console(alerting_client()), terminal_size=SMALL, run_before=steps)


def test_silence_dialog(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _alerts(pilot)
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SilenceModal), "the dialog")
        await pilot.pause(0.2)

    assert snap_compare(console(alerting_client()), terminal_size=SMALL, run_before=steps)


async def _rule_form(pilot: Pilot[None]) -> None:
    await _alerts(pilot, 1)
    await pilot.press("n")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, AlertRuleModal), "the form")
    await pilot.pause(0.2)


def test_rule_form(snap_compare: Compare) -> None:
    assert snap_compare(console(alerting_client()), terminal_size=SMALL, run_before=_rule_form)


def test_rule_form_200x60(snap_compare: Compare) -> None:
    assert snap_compare(console(alerting_client()), terminal_size=HUGE, run_before=_rule_form)


def test_rule_form_with_a_refused_window(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _rule_form(pilot)
        form = pilot.app.screen
        for field, value in (("name", "SlowFetch"), ("threshold", "1500"), ("window", "5s")):
            form.query_one(f"#rule-{field}", Input).value = value
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: form.query_one("#rule-window-error").display, "why")
        await pilot.pause(0.2)

    assert snap_compare(console(alerting_client()), terminal_size=SMALL, run_before=steps)


def test_target_form_with_a_hidden_secret(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _alerts(pilot, 2)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, AlertTargetModal), "form")
        await pilot.press(*"pager", "tab", *"https://hooks.example.com/pager", "tab")
        await pilot.press(*"s3cr3t-hmac-key-0042")
        await pilot.pause(0.2)

    assert snap_compare(console(alerting_client()), terminal_size=SMALL, run_before=steps)
