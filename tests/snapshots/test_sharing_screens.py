"""Snapshots of sharing and API keys: the share dialog (owner and caller), a shared deployment
in the list, the keys view, the new-key form refusing an expiry, and the secret shown once.

Update them with ``pytest tests/snapshots/test_sharing_screens.py --snapshot-update`` after a
deliberate change, and look at the report.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Input

from mcp_console.screens.keys import KeysScreen
from mcp_console.screens.modals.key_secret import KeySecretModal
from mcp_console.screens.modals.new_key import NewKeyModal
from mcp_console.screens.modals.share import ShareModal
from tests.tui.helpers import console, open_deployments, open_keys, text_of, wait_until
from tests.tui.sample_sharing import keys_client, sharing_client

Compare = Callable[..., bool]
WIDE = (120, 36)
SMALL = (80, 24)


async def _deployments(pilot: Pilot[None], cursor: str) -> None:
    screen = await open_deployments(pilot)
    screen.table.select(cursor)
    await pilot.pause(0.2)


async def _share(pilot: Pilot[None], cursor: str = "weather", wrong: str | None = None) -> None:
    await _deployments(pilot, cursor)
    await pilot.press("a")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ShareModal), "the dialog")
    if wrong is not None:
        await pilot.press(*wrong, "enter")
        await wait_until(pilot, lambda: bool(text_of(pilot, "#share-error")), "the refusal")
    await pilot.pause(0.2)


async def _keys(pilot: Pilot[None]) -> KeysScreen:
    screen = await open_keys(pilot)
    screen.table.select("2")
    await pilot.pause(0.2)
    return screen


async def _new_key(pilot: Pilot[None], name: str, expires: str) -> NewKeyModal:
    await _keys(pilot)
    await pilot.press("n")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, NewKeyModal), "the form")
    form = pilot.app.screen
    assert isinstance(form, NewKeyModal)
    await pilot.pause()
    form.query_one("#key-name", Input).value = name
    form.query_one("#key-expires", Input).value = expires
    return form


def test_share_dialog_names_the_unknown_user(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _share(pilot, wrong="nobody")

    assert snap_compare(console(sharing_client()), terminal_size=WIDE, run_before=steps)


def test_share_dialog_80x24(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _share(pilot, wrong="nobody")

    assert snap_compare(console(sharing_client()), terminal_size=SMALL, run_before=steps)


def test_share_dialog_of_a_caller(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _share(pilot, "alice/github")

    assert snap_compare(console(sharing_client()), terminal_size=WIDE, run_before=steps)


def test_deployments_with_one_shared_with_me(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _deployments(pilot, "alice/github")

    assert snap_compare(console(sharing_client()), terminal_size=WIDE, run_before=steps)


def test_keys_loaded(snap_compare: Compare) -> None:
    assert snap_compare(console(keys_client()), terminal_size=WIDE, run_before=_keys)


def test_keys_loaded_80x24(snap_compare: Compare) -> None:
    assert snap_compare(console(keys_client()), terminal_size=SMALL, run_before=_keys)


def test_new_key_refuses_an_expiry(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _new_key(pilot, "agent", "3 days")
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)

    assert snap_compare(console(keys_client()), terminal_size=WIDE, run_before=steps)


def test_new_key_secret_shown_once(snap_compare: Compare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await _new_key(pilot, "agent", "7d")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, KeySecretModal), "secret")
        await pilot.pause(0.2)

    assert snap_compare(console(keys_client()), terminal_size=WIDE, run_before=steps)
