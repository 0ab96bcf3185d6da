"""The alerts editor on the real backend: its refusals reach the form's fields, a built-in
rule stays, and a target's secret is stored but never shown."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input

from mcp_console.backend.runtime import Runtime
from mcp_console.client.local import LocalClient
from mcp_console.screens.modals.alert_rule_form import AlertRuleModal
from mcp_console.screens.modals.alert_target_form import AlertTargetModal
from mcp_console.screens.modals.confirm import ConfirmModal
from tests.tui.helpers import SIZE, console, open_alert_tab, text_of, wait_until

SECRET = "s3cr3t-hmac-key-0042"


async def _typed(pilot: Pilot[None], values: dict[str, str]) -> None:
    """Fill the form's inputs (``{"#rule-name": "…"}``) and let it take them in."""
    for selector, value in values.items():
        pilot.app.screen.query_one(selector, Input).value = value
    await pilot.pause()


async def test_a_rule_the_backend_refuses_then_takes_and_a_built_in_it_keeps(
    runtime: Runtime,
) -> None:
    assert runtime.local_admin is not None
    app = console(LocalClient(runtime, runtime.local_admin))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_alert_tab(pilot, "rules")
        assert "CrashLoop" in screen.table("rules").keys
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, AlertRuleModal), "the form")
        form = app.screen
        await _typed(pilot, {"#rule-name": "SlowAny", "#rule-threshold": "800"})
        await _typed(pilot, {"#rule-window": "5s"})
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: bool(text_of(pilot, "#rule-window-error")), "refusal")
        assert "window: Input should be greater than or equal to 10 seconds" in text_of(
            pilot, "#rule-window-error"
        )
        await _typed(pilot, {"#rule-window": "2m", "#rule-deployment": "nowhere"})
        await pilot.press("ctrl+s")
        await wait_until(
            pilot, lambda: "nowhere" in text_of(pilot, "#rule-deployment-error"), "refusal"
        )
        assert app.screen is form
        await _typed(pilot, {"#rule-deployment": ""})
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "SlowAny" in screen.table("rules").keys, "the rule")
        stored = {r.name: r for r in await runtime.alert_rules.rules(runtime.local_admin)}
        assert (stored["SlowAny"].threshold, stored["SlowAny"].window_s) == (800, 120)

        screen.table("rules").select("CrashLoop")
        await pilot.pause(0.1)
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
        await pilot.press("y")
        await wait_until(
            pilot,
            lambda: any("built in" in n.message for n in app._notifications),
            "the backend's refusal",
        )
        assert "CrashLoop" in screen.table("rules").keys
        stored = {r.name: r for r in await runtime.alert_rules.rules(runtime.local_admin)}
        assert "CrashLoop" in stored


async def test_a_target_added_with_a_secret_that_is_never_shown(runtime: Runtime) -> None:
    assert runtime.local_admin is not None
    app = console(LocalClient(runtime, runtime.local_admin))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_alert_tab(pilot, "targets")
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, AlertTargetModal), "the form")
        await _typed(
            pilot,
            {
                "#target-name": "pager",
                "#target-url": "https://hooks.example.com/pager?token=t0k3n",
                "#target-secret": SECRET,
            },
        )
        seen = [app.export_screenshot()]
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "pager" in screen.table("targets").keys, "the target")
        await pilot.pause(0.1)
        seen.append(app.export_screenshot())
        row = [str(cell) for cell in screen.table("targets").get_row("pager")]
        assert row[1] == "webhook"
        assert row[3] == "✓ HMAC"
        assert "t0k3n" not in row[2]  # the URL's credentials come back masked
        for shot in seen:
            assert SECRET not in shot
        [target] = await runtime.notifications.list_targets(runtime.local_admin)
        assert target.signed

        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
        assert SECRET not in app.export_screenshot()
        await pilot.press("y")
        await wait_until(pilot, lambda: screen.table("targets").keys == [], "gone")
        assert await runtime.notifications.list_targets(runtime.local_admin) == []
