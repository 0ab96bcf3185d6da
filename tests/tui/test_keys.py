"""API keys in the developer console: listed without secrets, created with the secret shown
once, revoked after a confirmation."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input, SelectionList

from mcp_console.schemas.errors import Forbidden
from mcp_console.schemas.users import KeyState
from mcp_console.screens.keys import KeysScreen
from mcp_console.screens.modals.confirm import ConfirmModal
from mcp_console.screens.modals.key_secret import KeySecretModal
from mcp_console.screens.modals.new_key import NewKeyModal
from tests.fakes import FakeClient
from tests.tui.helpers import SIZE, console, open_keys, screen_text, text_of, wait_until
from tests.tui.sample_sharing import SECRET, keys_client


async def _keys(pilot: Pilot[None]) -> KeysScreen:
    screen = await open_keys(pilot)
    await pilot.pause()
    return screen


def _row(screen: KeysScreen, key_id: int) -> list[str]:
    return [str(cell) for cell in screen.table.get_row(str(key_id))]


def _everything_shown(pilot: Pilot[None], screen: KeysScreen) -> str:
    cells = [str(c) for key in screen.table.keys for c in screen.table.get_row(key)]
    return screen_text(pilot) + "\n".join(cells)


async def test_the_keys_are_listed_with_prefix_state_expiry_and_scope_never_a_secret() -> None:
    client = keys_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _keys(pilot)
        assert screen.table.keys == ["3", "2", "1"]  # newest first
        assert _row(screen, 2) == [
            "ci-bot",
            "mcpc_00000002…",
            "● active",
            "just now",
            "never",
            "in 1 month",
            "alice/github, weather",
        ]
        assert _row(screen, 1)[5:] == ["never", "every deployment"]
        assert _row(screen, 3)[2] == "✗ revoked"
        assert text_of(pilot, "#keys-status") == "3 key(s) · 2 active · 1 revoked"
        screen.table.select("2")
        await pilot.pause()
        why = text_of(pilot, "#keys-why")
        assert "expires 2026-12-25 (in 1 month)" in why
        assert "reaches alice/github, weather" in why
        assert "fake-secret" not in _everything_shown(pilot, screen)


async def test_a_new_key_is_checked_in_place_and_its_secret_is_shown_exactly_once() -> None:
    client = keys_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _keys(pilot)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, NewKeyModal), "the form")
        form = app.screen
        assert isinstance(form, NewKeyModal)
        await pilot.pause()

        await pilot.press("enter")
        assert text_of(pilot, "#key-name-error").startswith("✗ name: give the key a name")
        await pilot.press(*"agent", "tab", *"3 days", "enter")
        assert text_of(pilot, "#key-expires-error") == (
            "✗ expires must be a positive duration such as 30d, 12h, 90m or 2w, got '3 days'"
        )
        assert text_of(pilot, "#key-name-error") == ""
        expires = form.query_one("#key-expires", Input)
        assert expires.has_focus
        assert expires.has_class("-invalid")
        assert "create_key" not in client.calls  # nothing asked of the backend yet

        expires.value = "7d"
        await pilot.pause()
        assert text_of(pilot, "#key-expires-error") == ""  # fixing it takes the complaint away
        await pilot.press("tab")
        chosen = form.query_one(SelectionList)
        assert chosen.has_focus
        await pilot.press("down", "space")  # the second deployment listed
        assert chosen.selected == ["postgres"]
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, KeySecretModal), "the secret")
        shown = screen_text(pilot)
        assert SECRET in shown
        assert "Copy it now: it will not be shown again" in shown
        assert "It reaches postgres; it expires in 7 days." in shown

        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen, "the keys again")
        assert screen.table.keys[0] == "4"
        assert screen.table.highlighted_key == "4"
        assert _row(screen, 4)[:3] == ["agent", "mcpc_00000004…", "● active"]
        assert _row(screen, 4)[5:] == ["in 7 days", "postgres"]
        # gone for good: not on the screen, not kept by it, not in what it is told
        assert SECRET not in _everything_shown(pilot, screen)
        assert all(SECRET not in n.message for n in app._notifications)
        screen.load()
        await wait_until(pilot, lambda: client.calls.count("list_keys") == 2, "a reload")
        await pilot.pause()
        assert SECRET not in _everything_shown(pilot, screen)


async def test_revoking_asks_first_cancel_is_the_default_and_the_key_stops_at_once() -> None:
    client = keys_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _keys(pilot)
        screen.table.select("1")
        await pilot.pause()
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
        assert "Revoke key 'laptop' (mcpc_00000001…)?" in screen_text(pilot)
        await pilot.press("enter")  # Cancel is highlighted: nothing happens
        await wait_until(pilot, lambda: app.screen is screen, "the keys again")
        assert "revoke_key" not in client.calls

        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
        await pilot.press("y")
        await wait_until(pilot, lambda: _row(screen, 1)[2] == "✗ revoked", "revoked")
        assert client.keys.listed(client.me, None)[-1].state is KeyState.REVOKED
        assert _row(screen, 1)[5] == "—"
        assert screen.check_action("revoke", ()) is False  # nothing more to revoke
        assert "x" not in {key for key, b in screen.active_bindings.items() if b.enabled}


async def test_a_refused_key_says_why_in_the_form_and_revoking_my_own_key_warns() -> None:
    client = keys_client()
    me = client.me.model_copy(update={"key_id": 2})  # this console signs in with ci-bot
    client = client.acting_as(me)
    client.failures["create_key"] = Forbidden(
        "a key limited to some deployments may not manage keys"
    )
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _keys(pilot)
        assert "this console signs in with key 2" in text_of(pilot, "#keys-status")
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, NewKeyModal), "the form")
        await pilot.press(*"agent", "enter")
        await wait_until(pilot, lambda: bool(text_of(pilot, "#key-error")), "the refusal")
        assert text_of(pilot, "#key-error") == (
            "✗ a key limited to some deployments may not manage keys"
        )
        assert isinstance(app.screen, NewKeyModal)  # the form stays, with what was typed
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, "the keys again")

        screen.table.select("2")
        await pilot.pause()
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
        assert "This console signs in with it: it stops working too." in screen_text(pilot)


async def test_with_no_keys_the_view_says_how_to_make_one() -> None:
    app = console(FakeClient())
    async with app.run_test(size=(80, 24)) as pilot:
        await _keys(pilot)
        assert "You have no API keys. Press n to create one" in text_of(pilot, "#keys-empty")
