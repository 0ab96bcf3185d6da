"""The audit view: every change and tool call newest first, filtered by time (t), user, kind
and deployment, each event whole on enter; what the backend scopes, the view shows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.pilot import Pilot

from mcp_console.app import ConsoleApp
from mcp_console.schemas.errors import Forbidden
from mcp_console.schemas.users import Principal, Role
from mcp_console.screens import audit
from mcp_console.screens.audit import AuditScreen
from mcp_console.screens.modals.audit_entry import AuditEntryModal
from mcp_console.screens.modals.command_line import CommandLine
from tests.fakes import FakeClient
from tests.tui.helpers import SIZE, console, text_of, wait_until
from tests.tui.sample import NOW
from tests.tui.sample_audit import MARIA, audited_client

SMALL = (80, 24)


async def _audit(pilot: Pilot[None]) -> AuditScreen:
    app = pilot.app
    await pilot.press("escape", "7")
    await wait_until(pilot, lambda: isinstance(app.screen, AuditScreen), "the audit view")
    screen = app.screen
    assert isinstance(screen, AuditScreen)
    await wait_until(pilot, lambda: screen.loads > 0, "the first events")
    await pilot.pause(0.1)
    return screen


async def _filter(pilot: Pilot[None], screen: AuditScreen, **values: str) -> None:
    loads = screen.loads
    await pilot.press("slash")
    for field, value in values.items():
        screen.filter_input(field).value = value
    await pilot.press("enter")
    await wait_until(pilot, lambda: screen.loads > loads, f"the events of {values}")
    await pilot.pause(0.1)


async def _step(pilot: Pilot[None], screen: AuditScreen, key: str = "t") -> None:
    loads = screen.loads
    await pilot.press(key)
    await wait_until(pilot, lambda: screen.loads > loads, "the events")
    await pilot.pause(0.1)


def _notices(app: ConsoleApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def test_every_event_newest_first_with_who_what_and_outcome() -> None:
    app = console(audited_client())
    async with app.run_test(size=SIZE) as pilot:
        screen = await _audit(pilot)
        assert screen.table.keys == [str(i) for i in range(10, 0, -1)]
        newest = [str(cell) for cell in screen.table.get_row("10")]
        assert newest == [
            "11-25 11:58:00",
            "admin",
            "gateway",
            "tool.call",
            "search_code",
            "github",
            "ok · 312 ms",
        ]
        assert [str(c) for c in screen.table.get_row("8")][-1] == "rpc -32603 · 1840 ms"
        # A change shows what changed; what the controller did by itself is marked auto.
        assert [str(c) for c in screen.table.get_row("4")][1:3] == ["controller", "auto"]
        assert str(screen.table.get_row("5")[-1]) == "replicas=2 was=1"
        status = text_of(pilot, "#audit-status").strip()
        assert status == "10 event(s), newest first · since: any time (t)"
        detail = text_of(pilot, "#audit-detail")
        assert "tool.call search_code on github · admin via gateway" in detail
        assert "2026-11-25 11:58:00 UTC · #10 · ok · 312 ms" in detail


async def test_user_kind_and_deployment_filters_narrow_the_listing() -> None:
    client = audited_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _audit(pilot)
        await _filter(pilot, screen, user="maria")
        assert screen.table.keys == ["8", "6", "2"]
        await _filter(pilot, screen, kind="tool.call")
        assert screen.table.keys == ["8", "6"]
        await _filter(pilot, screen, user="", kind="deployment")
        assert screen.table.keys == ["7", "5", "4", "3", "1"]
        await _filter(pilot, screen, kind="", deployment="weather-eu")
        assert screen.table.keys == ["9", "5"]
        await _filter(pilot, screen, user="nobody", deployment="")
        assert screen.table.keys == []
        assert "no event matches" in text_of(pilot, "#audit-status")
        # The filters reach the backend as the query's fields.
        assert screen.audit_query().user == "nobody"


async def test_a_kind_the_backend_refuses_is_named() -> None:
    client = audited_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _audit(pilot)
        await _filter(pilot, screen, kind="nonsense")
        status = text_of(pilot, "#audit-status")
        assert "✗ Could not read the audit trail: no audit event kind 'nonsense'" in status
        assert screen.filter_input("kind").has_class("-invalid")
        assert any(n.startswith("Could not read the audit trail:") for n in _notices(app))
        # What was shown before stays.
        assert len(screen.table.keys) == 10
        await _filter(pilot, screen, kind="alert")
        assert screen.table.keys == ["9"]
        assert not screen.filter_input("kind").has_class("-invalid")


async def test_t_steps_how_far_back_by_the_apps_clock() -> None:
    app = console(audited_client())
    async with app.run_test(size=SIZE) as pilot:
        screen = await _audit(pilot)
        await _step(pilot, screen)
        assert screen.audit_query().since == (NOW - timedelta(hours=1)).isoformat()
        assert screen.table.keys == ["10", "9", "8", "7", "6", "5"]
        assert "since: 1h (t)" in text_of(pilot, "#audit-status")
        await _step(pilot, screen)  # 24h: the rollout 25 hours ago is still out
        assert len(screen.table.keys) == 6
        await _step(pilot, screen)  # 7d
        assert len(screen.table.keys) == 10
        await _step(pilot, screen, "T")
        assert "since: 24h (t)" in text_of(pilot, "#audit-status")
        assert len(screen.table.keys) == 6


async def test_enter_shows_the_whole_event_as_json() -> None:
    app = console(audited_client())
    async with app.run_test(size=SIZE) as pilot:
        screen = await _audit(pilot)
        screen.table.select("9")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, AuditEntryModal), "the event")
        shown = text_of(pilot, "#audit-entry-json")
        assert '"kind": "alert.silenced"' in shown
        assert '"alertname": "CrashLoop"' in shown
        assert '"duration_s": 3600' in shown
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, "the listing again")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, AuditEntryModal), "d too")


async def test_a_change_elsewhere_shows_up_at_the_top() -> None:
    client = audited_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _audit(pilot)
        newest = client.audit_log[-1]
        client.audit_log.append(
            newest.model_copy(
                update={
                    "id": 11,
                    "kind": "deployment.stopping",
                    "via": "api",
                    "target": "github",
                    "deployment": "github",
                    "detail": {},
                }
            )
        )
        client.emit({"type": "deployment.stopping", "name": "github"})
        await wait_until(pilot, lambda: screen.table.keys[:1] == ["11"], "the new event")
        assert len(screen.table.keys) == 11


async def test_someone_else_sees_what_the_backend_shows_them() -> None:
    maria = Principal(user_id=MARIA, name="maria", role=Role.USER)
    app = console(audited_client().acting_as(maria))
    async with app.run_test(size=SIZE) as pilot:
        screen = await _audit(pilot)
        assert screen.table.keys == ["8", "6", "2"]


async def test_m_reads_older_events_a_page_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "PAGE", 4)
    client = audited_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _audit(pilot)
        assert screen.table.keys == ["10", "9", "8", "7"]
        assert "m reads older ones" in text_of(pilot, "#audit-status")
        await _step(pilot, screen, "m")
        assert screen.table.keys == [str(i) for i in range(10, 2, -1)]
        assert screen.table.highlighted_key == "6"
        await _step(pilot, screen, "m")
        assert len(screen.table.keys) == 10
        assert "m reads" not in text_of(pilot, "#audit-status")
        calls = client.calls.count("audit_events")
        await pilot.press("m")  # nothing older: the key is off
        await pilot.pause(0.2)
        assert client.calls.count("audit_events") == calls


async def test_a_refusal_is_said_and_r_reads_again() -> None:
    client = audited_client(failures={"audit_events": Forbidden("this key is limited to web")})
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _audit(pilot)
        assert "this key is limited to web" in text_of(pilot, "#audit-status")
        assert "Could not read the audit trail: this key is limited to web" in _notices(app)
        del client.failures["audit_events"]
        await _step(pilot, screen, "r")
        assert len(screen.table.keys) == 10


async def test_colon_audit_opens_it_and_it_works_at_80x24() -> None:
    app = console(audited_client())
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("escape", "colon")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandLine), "the prompt")
        await pilot.press(*"audit", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, AuditScreen), ":audit")
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        await wait_until(pilot, lambda: screen.loads > 0, "the events")
        await pilot.pause(0.1)
        assert screen.table.visible_columns == [
            "Time",
            "Actor",
            "Kind",
            "Target",
            "Outcome / detail",
        ]
        await _filter(pilot, screen, kind="tool.call")
        assert len(screen.table.keys) == 3


async def test_no_section_without_audit_events() -> None:
    class _OlderClient(FakeClient):
        audit_events = None  # type: ignore[assignment]

    app = console(_OlderClient())  # type: ignore[arg-type]
    async with app.run_test(size=SIZE):
        assert app.section("audit") is None
