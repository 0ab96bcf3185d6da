"""The drift view: D on a deployment (list or monitor) shows its policy, baseline and each
definition that differs with the backend's diff; approving asks first, p switches alert and
block, and what the backend refuses is said."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from mcp_console.app import ConsoleApp
from mcp_console.messages import DeploymentOpenRequested
from mcp_console.schemas.drift import DriftApproval, DriftPolicy
from mcp_console.schemas.errors import Forbidden, NotFound
from mcp_console.screens.deployments import DeploymentsScreen
from mcp_console.screens.drift import DriftScreen
from mcp_console.screens.modals.confirm import ConfirmModal
from mcp_console.screens.monitor import MonitorScreen
from tests.fakes import FakeClient
from tests.tui.helpers import SIZE, console, open_deployments, text_of, wait_until
from tests.tui.sample_drift import drifting_client

SMALL = (80, 24)


async def _drift(pilot: Pilot[None], name: str = "weather") -> DriftScreen:
    deployments = await open_deployments(pilot)
    deployments.table.select(name)
    await pilot.press("D")
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, DriftScreen), "the drift view")
    screen = app.screen
    assert isinstance(screen, DriftScreen)
    await pilot.pause(0.1)
    return screen


async def _answer(pilot: Pilot[None], screen: DriftScreen, key: str, answer: str) -> None:
    changes = screen.changes
    await pilot.press(key)
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
    await pilot.press(answer)
    if answer == "y":
        await wait_until(pilot, lambda: screen.changes > changes, "the change")
    await wait_until(pilot, lambda: app.screen is screen, "the drift view again")
    await pilot.pause(0.1)


def _notices(app: ConsoleApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


def _policy(client: FakeClient) -> DriftPolicy:
    return client.drift["weather"].policy


def _states(screen: DriftScreen) -> list[str]:
    return [str(screen.table.get_row(key)[0]) for key in screen.table.keys]


async def test_d_shows_the_policy_baseline_and_each_findings_diff() -> None:
    app = console(drifting_client())
    async with app.run_test(size=SIZE) as pilot:
        screen = await _drift(pilot)
        head = text_of(pilot, "#drift-head")
        assert "weather (2.1.0)  policy: block (changed and new tools are held back)" in head
        assert "baseline: 6 definition(s), recorded 2026-11-23 12:00 UTC (2 days ago)" in head
        assert "held back from clients: forecast, send_report" in head
        assert "3 finding(s) wait for approval" in head
        rows = [[str(c) for c in screen.table.get_row(k)] for k in screen.table.keys]
        assert rows[0] == [
            "● waiting",
            "changed",
            "tool",
            "forecast",
            "description, inputSchema",
            "14 minutes ago",
        ]
        assert [r[1:4] for r in rows[1:]] == [
            ["added", "tool", "send_report"],
            ["removed", "prompt", "daily_summary"],
            ["changed", "template", "city"],
        ]
        assert rows[3][0] == "✓ approved"
        diff = text_of(pilot, "#drift-diff-text")
        assert "changed tool forecast · fields: description, inputSchema" in diff
        assert '-  "description": "The weather forecast for a city.",' in diff
        assert '+      "notes": {' in diff
        await pilot.press("down", "down", "down")
        diff = text_of(pilot, "#drift-diff-text")
        assert "approved by admin 2026-11-24 10:05 UTC" in diff
        assert '+  "mimeType": "application/json",' in diff
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, DeploymentsScreen), "the list")


async def test_a_approves_the_highlighted_finding_after_asking() -> None:
    client = drifting_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _drift(pilot)
        await _answer(pilot, screen, "a", "n")
        assert "approve_drift" not in client.calls
        await _answer(pilot, screen, "a", "y")
        assert client.calls.count("approve_drift") == 1
        assert _states(screen)[0] == "✓ approved"
        assert "approved by admin" in text_of(pilot, "#drift-diff-text")
        head = text_of(pilot, "#drift-head")
        assert "held back from clients: send_report" in head
        assert "2 finding(s) wait for approval" in head
        assert "Approved: Approved tool forecast on weather." in _notices(app)
        # An approved finding has nothing left to approve.
        await pilot.press("a")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ConfirmModal)


async def test_shift_a_approves_every_waiting_finding() -> None:
    client = drifting_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _drift(pilot)
        await _answer(pilot, screen, "A", "y")
        assert _states(screen) == ["✓ approved"] * 4
        assert client.drift["weather"].blocked_tools == []
        head = text_of(pilot, "#drift-head")
        assert "every finding is approved" in head
        assert "held back from clients" not in head
        assert "Approved: Approved all 3 waiting finding(s) on weather." in _notices(app)


async def test_p_switches_between_block_and_alert() -> None:
    client = drifting_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _drift(pilot)
        changes = screen.changes
        await pilot.press("p")  # to alert: nothing is hidden by it, so nothing to ask
        await wait_until(pilot, lambda: screen.changes > changes, "the policy")
        assert _policy(client) is DriftPolicy.ALERT
        assert "policy: alert (a change alerts; clients still see it)" in text_of(
            pilot, "#drift-head"
        )
        await _answer(pilot, screen, "p", "n")
        assert _policy(client) is DriftPolicy.ALERT
        await _answer(pilot, screen, "p", "y")
        assert _policy(client) is DriftPolicy.BLOCK
        assert client.calls.count("set_drift_policy") == 2
        assert "Policy changed: weather's drift policy is block." in _notices(app)


async def test_drift_found_or_approved_elsewhere_shows_up() -> None:
    client = drifting_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _drift(pilot)
        other = client.acting_as(client.me.model_copy(update={"name": "maria"}))
        await other.approve_drift("weather", DriftApproval(names=["send_report"]))
        client.emit({"type": "deployment.drift.approved", "deployment": "weather"})
        await wait_until(pilot, lambda: _states(screen)[1] == "✓ approved", "the approval")
        assert "held back from clients: forecast" in text_of(pilot, "#drift-head")
        assert "2 finding(s) wait for approval" in text_of(pilot, "#drift-head")


async def test_what_the_backend_refuses_is_named() -> None:
    refusal = Forbidden("weather is shared with you as a caller: only its operators may")
    client = drifting_client(failures={"approve_drift": refusal, "set_drift_policy": refusal})
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _drift(pilot)
        await _answer(pilot, screen, "a", "y")
        assert f"Could not approve tool forecast on weather: {refusal.message}" in _notices(app)
        assert _states(screen)[0] == "● waiting"
        changes = screen.changes
        await pilot.press("p")
        await wait_until(pilot, lambda: screen.changes > changes, "the refusal")
        assert f"Could not set the drift policy of weather: {refusal.message}" in _notices(app)
        assert "policy: block" in text_of(pilot, "#drift-head")


async def test_a_deployment_gone_is_named_and_no_view_opens() -> None:
    client = drifting_client(failures={"drift_report": NotFound("no deployment named 'slack'")})
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        deployments = await open_deployments(pilot)
        deployments.table.select("slack")
        await pilot.press("D")
        await wait_until(pilot, lambda: bool(app._notifications), "the notification")
        assert "Could not read the drift of slack: no deployment named 'slack'" in _notices(app)
        assert app.screen is deployments


async def test_d_in_the_monitor_shows_the_watched_deployment_at_80x24() -> None:
    client = drifting_client()
    app = console(client)
    async with app.run_test(size=SMALL) as pilot:
        app.post_message(DeploymentOpenRequested("weather"))
        await wait_until(pilot, lambda: isinstance(app.screen, MonitorScreen), "the monitor")
        monitor = app.screen
        assert isinstance(monitor, MonitorScreen)
        await wait_until(pilot, lambda: monitor.detail is not None, "weather")
        await pilot.press("D")
        await wait_until(pilot, lambda: isinstance(app.screen, DriftScreen), "the drift view")
        screen = app.screen
        assert isinstance(screen, DriftScreen)
        await pilot.pause(0.1)
        assert screen.deployment_name == "weather"
        assert screen.table.visible_columns[:2] == ["State", "Change"]
        assert "Name" in screen.table.visible_columns
        await _answer(pilot, screen, "A", "y")
        assert client.drift["weather"].blocked_tools == []


async def test_no_drift_key_without_drift_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    client = drifting_client()
    monkeypatch.setattr(client, "drift_report", None)  # an older daemon's client
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        deployments = await open_deployments(pilot)
        deployments.table.select("weather")
        await pilot.pause(0.1)
        assert deployments.check_action("drift", ()) is False
        assert deployments.check_action("history", ()) is True
        await pilot.press("D")
        await pilot.pause(0.2)
        assert app.screen is deployments
