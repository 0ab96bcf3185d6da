"""The alerts section's editor: rules added through a form (refusals at their field, what was
typed kept) and removed after a confirmation; notification targets added, their secret never
on screen, and removed."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input, Select

from mcp_console.app import ConsoleApp
from mcp_console.schemas.alerts import Comparison, Severity, TargetKind
from mcp_console.schemas.users import Principal, Role
from mcp_console.screens.alerts import AlertsScreen
from mcp_console.screens.modals.alert_rule_form import RULE_FIELDS, AlertRuleModal
from mcp_console.screens.modals.alert_target_form import AlertTargetModal
from mcp_console.screens.modals.confirm import ConfirmModal
from tests.fakes import FakeClient
from tests.tui.helpers import SIZE, console, open_alert_tab, text_of, wait_until
from tests.tui.sample_alerts import alerting_client

SMALL = (80, 24)
SECRET = "s3cr3t-hmac-key-0042"


async def _rule_form(pilot: Pilot[None]) -> AlertRuleModal:
    await pilot.press("n")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, AlertRuleModal), "the form")
    form = pilot.app.screen
    assert isinstance(form, AlertRuleModal)
    await pilot.pause(0.1)
    return form


def _set(form: AlertRuleModal | AlertTargetModal, field: str, value: str) -> None:
    prefix = "rule" if isinstance(form, AlertRuleModal) else "target"
    form.query_one(f"#{prefix}-{field}", Input).value = value


async def _save(pilot: Pilot[None], key: str = "ctrl+s") -> None:
    """Send the form once what was set in it has been taken in (each field says it changed)."""
    await pilot.pause()
    await pilot.press(key)


async def _asked(pilot: Pilot[None], key: str = "x") -> str:
    """Press ``key`` and wait for the confirmation it asks for; its question."""
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmModal), "the question")
    return text_of(pilot, ".dialog-title")


def _cells(screen: AlertsScreen, tab: str, key: str) -> list[str]:
    return [str(cell) for cell in screen.table(tab).get_row(key)]


def _notices(app: ConsoleApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def test_a_rule_added_through_the_form_is_listed() -> None:
    client = alerting_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_alert_tab(pilot, "rules")
        assert "add_alert_rule" not in client.calls
        form = await _rule_form(pilot)
        assert form.value("window") == "5m"
        # The deployments to choose from are the user's, completed as they are typed.
        assert "weather" in form.deployments
        # Every field by keyboard, top to bottom.
        await pilot.press(*"ErrorsAtWeather", "tab")
        await pilot.press("enter", "down", "down", "enter")  # the metric: the third one
        await wait_until(pilot, lambda: form.value("metric") == "error_rate", "the metric")
        assert "failed requests / requests" in text_of(pilot, "#rule-metric-help")
        await pilot.press("tab", "right")  # the comparison: > then >=
        assert form.value("op") == ">="
        await pilot.press("tab", *"0.1", "tab", *"10m", "tab", *"1m", "tab", *"wea")
        await pilot.pause(0.1)
        await pilot.press("right")  # takes the deployment suggested
        await wait_until(pilot, lambda: form.value("deployment") == "weather", "the completion")
        await pilot.press("tab", "right")  # warning → critical
        await pilot.press("tab", *"team=payments, tier=1")
        await _save(pilot)
        await wait_until(pilot, lambda: app.screen is screen, "the rules again")
        await wait_until(pilot, lambda: "ErrorsAtWeather" in screen.table("rules").keys, "it")
        assert _cells(screen, "rules", "ErrorsAtWeather")[1:4] == [
            "✓ on",
            "custom",
            "error_rate >= 0.1 over 10m for 1m",
        ]
        assert screen.table("rules").highlighted_key == "ErrorsAtWeather"
        added = next(r for r in client.alert_rules if r.name == "ErrorsAtWeather")
        assert (added.op, added.threshold, added.window_s, added.for_s) == (
            Comparison.GE,
            0.1,
            600,
            60,
        )
        assert (added.deployment, added.severity) == ("weather", Severity.CRITICAL)
        assert added.labels == {"team": "payments", "tier": "1"}
        assert any(n.startswith("Rule added: Rule ErrorsAtWeather") for n in _notices(app))


async def test_bad_values_are_refused_at_their_field_and_what_was_typed_stays() -> None:
    client = alerting_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_alert_tab(pilot, "rules")
        form = await _rule_form(pilot)
        _set(form, "name", "SlowFetch")
        form.query_one("#rule-metric", Select).value = "p95_ms"
        _set(form, "threshold", "lots")
        _set(form, "labels", "team=search")
        await _save(pilot)
        await pilot.pause(0.1)
        assert "threshold: a number such as" in text_of(pilot, "#rule-threshold-error")
        assert form.query_one("#rule-threshold", Input).has_class("-invalid")
        assert app.screen.focused is form.query_one("#rule-threshold")
        assert "add_alert_rule" not in client.calls  # a number it is not: nothing to send

        # A window the backend refuses: its reason, under the window, in the form's words.
        _set(form, "threshold", "1500")
        _set(form, "window", "5s")
        await _save(pilot)
        await wait_until(
            pilot, lambda: "window:" in text_of(pilot, "#rule-window-error"), "the refusal"
        )
        assert "greater than or equal to 10 seconds" in text_of(pilot, "#rule-window-error")
        assert text_of(pilot, "#rule-threshold-error") == ""
        assert client.calls.count("add_alert_rule") == 1
        assert app.screen is form
        assert [form.value(f) for f in ("name", "metric", "threshold", "window", "labels")] == [
            "SlowFetch",
            "p95_ms",
            "1500",
            "5s",
            "team=search",
        ]

        _set(form, "window", "5m")
        _set(form, "for", "soon")
        await _save(pilot)
        await pilot.pause(0.1)
        assert "for: a duration such as" in text_of(pilot, "#rule-for-error")

        # A deployment nobody has: said under the deployment, not under the name.
        _set(form, "for", "")
        _set(form, "deployment", "nowhere")
        await _save(pilot)
        await wait_until(
            pilot, lambda: "nowhere" in text_of(pilot, "#rule-deployment-error"), "the refusal"
        )
        assert text_of(pilot, "#rule-name-error") == ""

        # A name that is taken: said under the name.
        _set(form, "deployment", "")
        _set(form, "name", "SlowWeather")
        await _save(pilot)
        await wait_until(
            pilot, lambda: "exists" in text_of(pilot, "#rule-name-error"), "the conflict"
        )
        assert app.screen is form
        assert [r.name for r in client.alert_rules].count("SlowWeather") == 1

        _set(form, "name", "SlowFetch")
        await _save(pilot)
        await wait_until(pilot, lambda: app.screen is screen, "the rules again")
        await wait_until(pilot, lambda: "SlowFetch" in screen.table("rules").keys, "the rule")
        assert _cells(screen, "rules", "SlowFetch")[3] == "p95_ms > 1500 over 5m"


async def test_escape_leaves_the_form_without_adding() -> None:
    client = alerting_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_alert_tab(pilot, "rules")
        form = await _rule_form(pilot)
        _set(form, "name", "Unwanted")
        _set(form, "threshold", "1")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, "the rules again")
        assert "add_alert_rule" not in client.calls
        assert "Unwanted" not in screen.table("rules").keys


async def test_a_rule_is_removed_after_a_yes_and_kept_after_a_no() -> None:
    client = alerting_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_alert_tab(pilot, "rules")
        screen.table("rules").select("SlowWeather")
        await pilot.pause(0.1)
        assert await _asked(pilot) == "Remove alert rule SlowWeather?"
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is screen, "the rules again")
        assert "remove_alert_rule" not in client.calls
        assert "SlowWeather" in screen.table("rules").keys

        # Enter takes Cancel: removing cannot be undone.
        await _asked(pilot, "delete")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen, "the rules again")
        assert "remove_alert_rule" not in client.calls

        await _asked(pilot)
        await pilot.press("y")
        await wait_until(pilot, lambda: "SlowWeather" not in screen.table("rules").keys, "gone")
        assert all(r.name != "SlowWeather" for r in client.alert_rules)
        assert any(n.startswith("Rule removed: Rule SlowWeather") for n in _notices(app))


async def test_the_backend_keeps_a_built_in_rule_and_says_why() -> None:
    client = alerting_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_alert_tab(pilot, "rules")
        screen.table("rules").select("CrashLoop")
        await pilot.pause(0.1)
        await _asked(pilot)
        await pilot.press("y")
        await wait_until(
            pilot,
            lambda: any("Could not remove rule CrashLoop" in n for n in _notices(app)),
            "the refusal",
        )
        assert any("built in: disable it instead" in n for n in _notices(app))
        assert "CrashLoop" in screen.table("rules").keys
        assert any(r.name == "CrashLoop" for r in client.alert_rules)


async def _target_form(pilot: Pilot[None]) -> AlertTargetModal:
    await pilot.press("n")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, AlertTargetModal), "the form")
    form = pilot.app.screen
    assert isinstance(form, AlertTargetModal)
    await pilot.pause(0.1)
    return form


async def test_a_target_is_added_and_its_secret_never_shows() -> None:
    client = alerting_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_alert_tab(pilot, "targets")
        form = await _target_form(pilot)
        await pilot.press(*"pager")
        await pilot.press("tab", *"slack://T000/B000/XXXX", "tab", *SECRET)
        assert form.query_one("#target-secret", Input).value == SECRET
        seen = [app.export_screenshot()]
        assert "T000/B000" in seen[0]  # what the other fields hold is on screen
        await _save(pilot, "enter")
        # An apprise URL is not signed: the secret is refused, under its field, unshown.
        await wait_until(
            pilot, lambda: "only webhook" in text_of(pilot, "#target-secret-error"), "refusal"
        )
        seen.append(app.export_screenshot())
        assert app.screen is form
        _set(form, "url", "https://hooks.example.com/pager")
        _set(form, "secret", "short")
        await _save(pilot)
        await wait_until(
            pilot, lambda: "16 characters" in text_of(pilot, "#target-secret-error"), "refusal"
        )
        _set(form, "secret", SECRET)
        await _save(pilot)
        await wait_until(pilot, lambda: app.screen is screen, "the targets again")
        await wait_until(pilot, lambda: "pager" in screen.table("targets").keys, "the target")
        await pilot.pause(0.1)
        seen.append(app.export_screenshot())
        assert _cells(screen, "targets", "pager")[1:] == [
            "webhook",
            "https://hooks.example.com/pager",
            "✓ HMAC",
        ]
        added = next(t for t in client.alert_targets if t.name == "pager")
        assert (added.kind, added.signed) == (TargetKind.WEBHOOK, True)
        assert any(
            n.startswith("Target added: Target pager (webhook, signed)") for n in _notices(app)
        )
        for shot in seen:
            assert SECRET not in shot
        assert "pager" in seen[-1]


async def test_a_target_is_removed_after_a_yes_and_kept_after_a_no() -> None:
    client = alerting_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_alert_tab(pilot, "targets")
        screen.table("targets").select("team-slack")
        await pilot.pause(0.1)
        assert await _asked(pilot) == "Remove notification target team-slack?"
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, "the targets again")
        assert "remove_alert_target" not in client.calls
        await _asked(pilot)
        await pilot.press("y")
        await wait_until(
            pilot, lambda: screen.table("targets").keys == ["ops-hook"], "the one left"
        )
        assert [t.name for t in client.alert_targets] == ["ops-hook"]
        assert client.alert_log == []  # its delivery log went with it


async def test_a_user_who_is_no_admin_sees_the_refusal_in_the_form() -> None:
    admin = alerting_client()
    client: FakeClient = admin.acting_as(Principal(user_id=7, name="ada", role=Role.USER))
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_alert_tab(pilot, "targets")
        assert screen.table("targets").keys == []
        form = await _target_form(pilot)
        _set(form, "name", "mine")
        _set(form, "url", "https://hooks.example.com/mine")
        await _save(pilot, "enter")
        await wait_until(
            pilot, lambda: "only admins" in text_of(pilot, "#target-error"), "the refusal"
        )
        assert app.screen is form
        assert [t.name for t in admin.alert_targets] == ["ops-hook", "team-slack"]


async def test_every_field_of_the_rule_form_is_on_screen_at_80x24() -> None:
    app = console(alerting_client())
    async with app.run_test(size=SMALL) as pilot:
        await open_alert_tab(pilot, "rules")
        form = await _rule_form(pilot)
        for field in RULE_FIELDS:
            region = form.query_one(f"#rule-{field}").region
            assert region.height == 1, field
            assert region.bottom <= SMALL[1], field
        # Refused: the reason under its field still leaves the form usable.
        _set(form, "name", "x")
        _set(form, "threshold", "?")
        await _save(pilot)
        await pilot.pause(0.1)
        assert form.query_one("#rule-threshold-error").region.bottom <= SMALL[1]
