"""The alerts section: what fires, acknowledging and silencing, history, rules turned on and
off, a test notification, refusals as notifications, and the header's badge."""

from __future__ import annotations

from typing import cast

from textual.pilot import Pilot
from textual.widgets import Input

from mcp_console.app import ConsoleApp
from mcp_console.client.protocol import ConsoleClient
from mcp_console.schemas.alerts import AlertState
from mcp_console.schemas.errors import Forbidden
from mcp_console.schemas.users import Principal, Role
from mcp_console.screens.alerts import AlertsScreen
from mcp_console.screens.market import MarketScreen
from mcp_console.screens.modals.command_line import CommandLine
from mcp_console.screens.modals.silence import SilenceModal
from tests.fakes import FakeClient
from tests.tui.helpers import SIZE, console, text_of, wait_until
from tests.tui.sample_alerts import alerting_client

SMALL = (80, 24)


async def _alerts(pilot: Pilot[None], key: str = "5") -> AlertsScreen:
    app = pilot.app
    await pilot.press("escape", key)
    await wait_until(pilot, lambda: isinstance(app.screen, AlertsScreen), "the alerts")
    screen = app.screen
    assert isinstance(screen, AlertsScreen)
    await wait_until(pilot, lambda: screen.loads > 0, "the first alerts")
    await pilot.pause(0.1)
    return screen


def _cells(screen: AlertsScreen, tab: str, key: str) -> list[str]:
    return [str(cell) for cell in screen.table(tab).get_row(key)]


def _notices(app: ConsoleApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def test_firing_first_worst_first_with_what_each_says() -> None:
    app = console(alerting_client())
    async with app.run_test(size=SIZE) as pilot:
        screen = await _alerts(pilot)
        table = screen.table("alerts")
        # Firing before pending, critical before warning; resolved ones hidden.
        assert table.keys == ["4", "2", "3"]
        assert _cells(screen, "alerts", "4")[:5] == [
            "● firing",
            "!! critical",
            "CrashLoop",
            "weather-eu",
            "2 minutes ago",
        ]
        assert "acked by admin" in _cells(screen, "alerts", "2")[6]
        assert text_of(pilot, "#alerts-status").startswith("1 pending · 2 firing")
        detail = text_of(pilot, "#alerts-detail")
        assert "#4 CrashLoop on weather-eu" in detail
        assert "weather-eu-2 restarted 5 times in 5 minutes" in detail


async def test_acknowledge_then_the_key_is_gone_for_that_alert() -> None:
    client = alerting_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _alerts(pilot)
        assert screen.check_action("acknowledge", ())
        await pilot.press("a")
        await wait_until(
            pilot, lambda: "acked by admin" in _cells(screen, "alerts", "4")[6], "the ack"
        )
        assert client.alerts[0].acknowledged_by == "admin"
        assert client.calls.count("acknowledge_alert") == 1
        assert any(n.startswith("Acknowledged: CrashLoop on weather-eu") for n in _notices(app))
        # Acknowledged already: `a` does nothing more.
        assert not screen.check_action("acknowledge", ())
        await pilot.press("a")
        await pilot.pause(0.2)
        assert client.calls.count("acknowledge_alert") == 1


async def test_silence_asks_how_long_and_refuses_a_bad_duration() -> None:
    client = alerting_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        await _alerts(pilot)
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SilenceModal), "the dialog")
        field = app.screen.query_one("#silence-duration", Input)
        assert field.value == "1h"
        field.value = "soon"
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert "duration: a duration such as" in text_of(pilot, "#silence-error")
        assert isinstance(app.screen, SilenceModal)
        field.value = "30s"
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert "from 1 minute to 90 days" in text_of(pilot, "#silence-error")
        field.value = "2h"
        app.screen.query_one("#silence-comment", Input).value = "rolling out a fix"
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(client.silences), "the silence")
        silence = client.silences[0]
        assert silence.matchers == {"alertname": "CrashLoop", "deployment": "weather-eu"}
        assert (silence.ends_at - silence.created_at).total_seconds() == 7200
        assert silence.comment == "rolling out a fix"
        await wait_until(
            pilot, lambda: any(n.startswith("Silenced:") for n in _notices(app)), "the notice"
        )


async def test_escape_leaves_the_silence_dialog_without_silencing() -> None:
    client = alerting_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _alerts(pilot)
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SilenceModal), "the dialog")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, "the alerts again")
        assert client.silences == []
        assert "add_silence" not in client.calls


async def test_history_shows_resolved_alerts_and_hides_them_again() -> None:
    client = alerting_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _alerts(pilot)
        await pilot.press("h")
        await wait_until(pilot, lambda: "1" in screen.table("alerts").keys, "the resolved one")
        assert _cells(screen, "alerts", "1")[0] == "✓ resolved"
        assert "1 resolved · resolved shown" in text_of(pilot, "#alerts-status")
        screen.table("alerts").select("1")
        await pilot.pause(0.1)
        # A resolved alert is neither acknowledged nor silenced.
        assert not screen.check_action("acknowledge", ())
        assert not screen.check_action("silence", ())
        await pilot.press("h")
        await wait_until(pilot, lambda: "1" not in screen.table("alerts").keys, "history hidden")


async def test_alerts_refresh_on_their_own_and_the_badge_follows() -> None:
    client = alerting_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        # Seen from the market, before the alerts section was ever opened.
        await wait_until(pilot, lambda: "2 alert(s) firing" in app.sub_title, "the badge")
        assert isinstance(app.screen, MarketScreen)
        screen = await _alerts(pilot)
        client.alerts = [a for a in client.alerts if a.id != 4]
        loads = screen.loads
        await wait_until(pilot, lambda: screen.loads > loads, "the next refresh", seconds=12)
        assert screen.table("alerts").keys == ["2", "3"]
        await wait_until(pilot, lambda: "1 alert(s) firing" in app.sub_title, "one firing")
        client.alerts = [a.model_copy(update={"state": AlertState.RESOLVED}) for a in client.alerts]
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "firing" not in app.sub_title, "no badge")
        assert app.sub_title == "Signed in as admin (admin)"
        assert "Nothing fires and nothing is pending." in text_of(pilot, "#alerts-detail")


async def test_rules_are_read_when_their_tab_opens_and_turn_off_and_on() -> None:
    client = alerting_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _alerts(pilot)
        assert "list_alert_rules" not in client.calls
        await pilot.press("right_square_bracket")
        await wait_until(pilot, lambda: screen.rules_loaded, "the rules")
        assert screen.tab == "rules"
        rules = screen.table("rules")
        assert "HighLatencyP95" in rules.keys
        assert _cells(screen, "rules", "SlowWeather")[1:4] == [
            "✓ on",
            "custom",
            "p99_ms > 2500 over 10m for 2m",
        ]
        assert _cells(screen, "rules", "CrashLoop")[2] == "built-in"
        rules.select("HighLatencyP95")
        await pilot.pause(0.1)
        assert "built in: it can be turned off, not removed" in text_of(pilot, "#rules-detail")
        assert not screen.check_action("enable", ())
        await pilot.press("d")
        await wait_until(
            pilot, lambda: _cells(screen, "rules", "HighLatencyP95")[1] == "■ off", "off"
        )
        assert not next(r for r in client.alert_rules if r.name == "HighLatencyP95").enabled
        await pilot.press("e")
        await wait_until(
            pilot, lambda: _cells(screen, "rules", "HighLatencyP95")[1] == "✓ on", "on"
        )
        assert next(r for r in client.alert_rules if r.name == "HighLatencyP95").enabled


async def test_a_test_notification_shows_how_the_delivery_went() -> None:
    client = alerting_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _alerts(pilot)
        await pilot.press("left_square_bracket")  # round to the last tab
        await wait_until(pilot, lambda: screen.targets_loaded, "the targets")
        assert screen.table("targets").keys == ["ops-hook", "team-slack"]
        assert _cells(screen, "targets", "ops-hook")[1:] == [
            "webhook",
            "https://hooks.example.com/alerts",
            "✓ HMAC",
        ]
        assert "Nothing sent to it yet." in text_of(pilot, "#targets-detail")
        await pilot.press("t")
        await wait_until(
            pilot, lambda: "delivered" in text_of(pilot, "#targets-detail"), "the delivery"
        )
        assert "✓ TestNotification to ops-hook: delivered after 1 attempt" in text_of(
            pilot, "#targets-detail"
        )
        assert any(n.startswith("Test delivered:") for n in _notices(app))
        # The other target's last notification is still waiting, and says why.
        await pilot.press("down")
        await wait_until(
            pilot, lambda: "connection refused" in text_of(pilot, "#targets-detail"), "why"
        )
        assert "◌ HighErrorRate to team-slack: waiting after 3 attempts" in text_of(
            pilot, "#targets-detail"
        )
        assert "next attempt in 2 minutes" in text_of(pilot, "#targets-detail")


async def test_a_user_who_is_no_admin_is_told_in_a_notification() -> None:
    admin = alerting_client()
    client = admin.acting_as(Principal(user_id=7, name="ada", role=Role.USER))
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _alerts(pilot)
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SilenceModal), "the dialog")
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: any("Could not silence" in n for n in _notices(app)), "the refusal"
        )
        assert app.screen is screen
        assert admin.silences == []
        await pilot.press("right_square_bracket")
        await wait_until(pilot, lambda: screen.rules_loaded, "the refusal")
        assert "✗ Could not read the alert rules: only admins" in text_of(pilot, "#rules-status")
        assert any(n.startswith("Could not read the alert rules") for n in _notices(app))
        assert not screen.check_action("disable", ())


async def test_a_backend_refusing_the_alerts_says_so_without_a_crash() -> None:
    client = alerting_client(failures={"list_alerts": Forbidden("your key may not see alerts")})
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape", "5")
        await wait_until(pilot, lambda: isinstance(app.screen, AlertsScreen), "the alerts")
        await wait_until(
            pilot, lambda: "your key may not see" in text_of(pilot, "#alerts-status"), "why"
        )
        assert any(n.startswith("Could not read the alerts") for n in _notices(app))
        assert "firing" not in app.sub_title


async def test_colon_alerts_and_its_aliases_open_it() -> None:
    app = console(alerting_client())
    async with app.run_test(size=SIZE) as pilot:
        for word in ("alerts", "alarms"):
            await pilot.press("escape", "1", "escape", "colon")
            await wait_until(pilot, lambda: isinstance(app.screen, CommandLine), "the prompt")
            await pilot.press(*word, "enter")
            await wait_until(pilot, lambda: isinstance(app.screen, AlertsScreen), f":{word}")


class _OlderClient(FakeClient):
    """A backend from before alerting."""

    list_alerts = None  # type: ignore[assignment]


async def test_a_client_without_alerting_has_no_alerts_section() -> None:
    client = _OlderClient()
    app = console(cast(ConsoleClient, client))
    async with app.run_test(size=SIZE) as pilot:
        assert app.section("alerts") is None
        await pilot.press("escape", "5")
        await pilot.pause(0.2)
        assert isinstance(app.screen, MarketScreen)
        assert "list_alerts" not in client.calls


async def test_every_tab_works_at_80x24() -> None:
    client = alerting_client()
    app = console(client)
    async with app.run_test(size=SMALL) as pilot:
        screen = await _alerts(pilot)
        # Whether an alert is acknowledged or silenced stays in sight.
        assert "Notes" in screen.table("alerts").visible_columns
        assert screen.table("alerts").visible_columns[:4] == [
            "State",
            "Severity",
            "Rule",
            "Deployment",
        ]
        await pilot.press("a")
        await wait_until(pilot, lambda: client.alerts[0].acknowledged_by == "admin", "the ack")
        await pilot.press("right_square_bracket")
        await wait_until(pilot, lambda: screen.rules_loaded, "the rules")
        assert screen.table("rules").visible_columns[:4] == ["Rule", "On", "Kind", "Condition"]
        await pilot.press("right_square_bracket")
        await wait_until(pilot, lambda: screen.targets_loaded, "the targets")
        await pilot.press("t")
        await wait_until(pilot, lambda: "delivered" in text_of(pilot, "#targets-detail"), "sent")
