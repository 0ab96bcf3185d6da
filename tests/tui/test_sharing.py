"""Sharing a deployment from the console, and what a viewer who does not own one may do."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from mcp_console.schemas.deploy import ShareRole
from mcp_console.schemas.errors import Forbidden
from mcp_console.screens.deployments import DeploymentsScreen
from mcp_console.screens.modals.confirm import ConfirmModal
from mcp_console.screens.modals.scale import ScaleModal
from mcp_console.screens.modals.share import ShareModal
from mcp_console.screens.monitor import MonitorScreen
from mcp_console.widgets.choice import Choice
from tests.tui.helpers import SIZE, console, open_deployments, screen_text, text_of, wait_until
from tests.tui.sample_sharing import sharing_client

SMALL = (80, 24)


async def _deployments(pilot: Pilot[None], cursor: str) -> DeploymentsScreen:
    screen = await open_deployments(pilot)
    screen.table.select(cursor)
    await pilot.pause()
    assert screen.table.highlighted_key == cursor
    return screen


async def _share_dialog(pilot: Pilot[None], cursor: str) -> ShareModal:
    await _deployments(pilot, cursor)
    await pilot.press("a")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ShareModal), "the dialog")
    dialog = pilot.app.screen
    assert isinstance(dialog, ShareModal)
    await pilot.pause()
    return dialog


def _footer_keys(screen: DeploymentsScreen) -> set[str]:
    return {b.binding.action for b in screen.active_bindings.values() if b.enabled}


async def test_the_owner_shares_with_a_user_and_a_team_and_a_wrong_name_is_named() -> None:
    client = sharing_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        deployments = await _deployments(pilot, "weather")
        assert "share" in _footer_keys(deployments)
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ShareModal), "the dialog")
        dialog = app.screen
        assert isinstance(dialog, ShareModal)
        await pilot.pause()
        listed = screen_text(pilot)
        assert "Who has access to weather" in listed
        options = dialog.query_one("#share-list", OptionList)
        assert [str(options.get_option_at_index(i).id) for i in range(2)] == [
            "user:carol",
            "team:platform",
        ]
        name = dialog.query_one("#share-name", Input)
        assert name.has_focus  # the owner comes to add someone

        await pilot.press(*"nobody", "enter")
        await wait_until(pilot, lambda: "no user named" in text_of(pilot, "#share-error"), "why")
        assert text_of(pilot, "#share-error") == "✗ no user named 'nobody'"
        assert name.has_class("-invalid")
        assert name.has_focus
        assert len(client.deployments["weather"].shares) == 2  # nothing half-done
        await pilot.press("backspace")  # fixing the name takes the complaint away
        await pilot.pause()
        assert text_of(pilot, "#share-error") == ""
        assert not name.has_class("-invalid")

        # bob as an operator: the role is picked with the arrow, enter there shares.
        name.value = ""
        await pilot.press(*"bob", "tab", "right")
        role = dialog.query_one("#share-role", Choice)
        assert role.has_focus
        assert role.value == "operator"
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(client.deployments["weather"].shares) == 3, "bob")
        bob = client.deployments["weather"].shares[0]
        assert (bob.kind, bob.name, bob.role) == ("user", "bob", ShareRole.OPERATOR)
        assert "✓ user bob is now an operator of weather." in text_of(pilot, "#share-done")
        assert not name.has_class("-invalid")
        assert text_of(pilot, "#share-error") == ""

        # a team that does not exist, then one that does
        dialog.query_one("#share-kind", Choice).focus()
        await pilot.press("right", "tab", *"ops", "enter")
        await wait_until(pilot, lambda: "no team named" in text_of(pilot, "#share-error"), "why")
        assert name.placeholder == "a team name"
        name.value = ""
        await pilot.press(*"platform", "tab", "left", "enter")  # from operator to caller
        await wait_until(pilot, lambda: "is now a caller" in text_of(pilot, "#share-done"), "")
        platform = [s for s in client.deployments["weather"].shares if s.name == "platform"]
        assert [s.role for s in platform] == [ShareRole.CALLER]  # sharing again sets the role

        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is deployments, "back to the list")
        assert client.calls.count("share_deployment") == 4


async def test_removing_a_share_asks_first_and_enter_takes_the_highlighted_choice() -> None:
    client = sharing_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await _share_dialog(pilot, "weather")
        options = dialog.query_one("#share-list", OptionList)
        options.focus()
        options.highlighted = 1  # the platform team
        await pilot.press("delete")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
        assert "Remove team platform from weather?" in screen_text(pilot)
        await pilot.press("n")  # changed my mind
        await wait_until(pilot, lambda: app.screen is dialog, "the dialog again")
        assert len(client.deployments["weather"].shares) == 2

        await pilot.press("delete")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
        await pilot.press("enter")  # Remove is highlighted
        await wait_until(pilot, lambda: len(client.deployments["weather"].shares) == 1, "gone")
        assert [s.name for s in client.deployments["weather"].shares] == ["carol"]
        assert "✓ team platform no longer has access to weather." in text_of(pilot, "#share-done")

        # enter on a share puts it in the form with the other role, ready to change it
        options.focus()
        options.highlighted = 0
        await pilot.press("enter")
        assert dialog.query_one("#share-name", Input).value == "carol"
        role = dialog.query_one("#share-role", Choice)
        assert role.has_focus
        assert role.value == "operator"
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: client.deployments["weather"].shares[0].role is ShareRole.OPERATOR,
            "carol an operator",
        )


async def test_a_caller_sees_who_has_access_but_may_not_run_or_share_it() -> None:
    client = sharing_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        deployments = await _deployments(pilot, "alice/github")
        # others' deployments come after mine, by their address
        assert deployments.table.keys[-2:] == ["alice/github", "alice/slack"]
        why = text_of(pilot, "#deployments-why")
        assert why.startswith("alice/github: shared with you by alice as a caller")
        offered = _footer_keys(deployments)
        assert {"scale", "update", "stop", "delete", "history", "logs"}.isdisjoint(offered)
        assert {"monitor", "share"} <= offered

        await pilot.press("s")
        await pilot.pause()
        notes = [n.message for n in app._notifications]
        assert (
            "alice/github is shared with you as a caller: only its operators, its owner and "
            "admins may scale it." in notes
        )
        assert "get_deployment" not in client.calls  # nothing was asked of the backend

        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ShareModal), "the dialog")
        assert "Only alice (its owner) and admins may change who has access." in screen_text(pilot)
        assert not app.screen.query("#share-name")
        await pilot.press("escape")

        await pilot.press("m")
        await wait_until(pilot, lambda: isinstance(app.screen, MonitorScreen), "the monitor")
        monitor = app.screen
        assert isinstance(monitor, MonitorScreen)
        await wait_until(pilot, lambda: monitor.polls > 0, "the first figures")
        assert monitor.deployment_name == "alice/github"
        assert "deployment_metrics" in client.calls
        # sessions and logs are for its operators: not asked for, and said so
        assert "list_sessions" not in client.calls
        assert "deployment_logs" not in client.calls
        withheld = "Only its operators, its owner and admins see its sessions and logs."
        assert monitor.logs.shown_lines == [withheld]
        assert text_of(pilot, "#sessions-empty").strip() == withheld
        await pilot.pause(1.5)  # the next polls leave the panes as they are
        assert monitor.polls > 1
        assert text_of(pilot, "#sessions-empty").strip() == withheld
        assert "shared with you by alice as a caller" in text_of(pilot, "#monitor-head")


async def test_an_operator_scales_by_address_and_a_refusal_by_the_backend_is_shown() -> None:
    client = sharing_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        deployments = await _deployments(pilot, "alice/slack")
        offered = _footer_keys(deployments)
        assert "scale" in offered
        assert "delete" not in offered

        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, ScaleModal), "the dialog")
        assert "Scale alice/slack" in screen_text(pilot)
        replicas = app.screen.query_one("#scale-replicas", Input)
        replicas.value = "2"
        await pilot.press("enter")
        await wait_until(pilot, lambda: client.deployments["alice/slack"].replicas == 2, "2")
        assert client.deployments["slack"].replicas == 1  # my own slack is not touched

        # alice narrows the share meanwhile: the backend refuses, the dialog says why
        client.failures["scale_deployment"] = Forbidden(
            "alice/slack is shared with you as a caller: only its operators, its owner and "
            "admins may scale it."
        )
        await wait_until(pilot, lambda: app.screen is deployments, "the list")
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, ScaleModal), "the dialog")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "only its operators" in text_of(pilot, "#scale-error"), "")
        assert text_of(pilot, "#scale-error") == (
            "✗ alice/slack is shared with you as a caller: only its operators, its owner and "
            "admins may scale it."
        )


async def test_the_share_dialog_works_by_keyboard_at_80x24() -> None:
    client = sharing_client()
    app = console(client)
    async with app.run_test(size=SMALL) as pilot:
        dialog = await _share_dialog(pilot, "weather")
        assert dialog.query_one("#share-add").region.bottom <= SMALL[1]
        await pilot.press("shift+tab")  # from the name back to user/team
        assert dialog.query_one("#share-kind", Choice).has_focus
        await pilot.press("tab", *"bob", "tab", "tab")
        assert app.focused is dialog.query_one("#share-add")
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(client.deployments["weather"].shares) == 3, "bob")
        assert client.deployments["weather"].shares[0].role is ShareRole.CALLER
