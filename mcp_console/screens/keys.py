"""KeysScreen: my API keys (never a secret, only a prefix); create one, revoke one."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Static

from mcp_console.schemas.users import KeyCreate, KeyCreated, KeyState, KeyView, Principal
from mcp_console.screens.base import ConsoleContext, ConsoleScreen, describe
from mcp_console.screens.modals.confirm import ConfirmModal
from mcp_console.screens.modals.key_secret import KeySecretModal
from mcp_console.screens.modals.new_key import NewKeyModal
from mcp_console.widgets.deployment_rows import listing_order
from mcp_console.widgets.key_rows import KEY_COLUMNS, key_rows, key_summary
from mcp_console.widgets.live_table import LiveTable


class KeysScreen(ConsoleScreen):
    """The keys that act as me: for scripts, agents and the CLI. A new key's secret shows
    once, in a dialog of its own; revoking asks first and takes effect at once."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_key", "New key", id="new-key"),
        Binding("x", "revoke", "Revoke", id="revoke-key"),
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="refresh"),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__(context)
        self.title = "API keys"
        self.keys: list[KeyView] = []
        self.me: Principal | None = None
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading your keys…", id="keys-status")
        yield LiveTable(KEY_COLUMNS, id="keys-table")
        yield Static("", id="keys-empty")
        yield Static("", id="keys-why")
        yield Footer(compact=True)

    @property
    def table(self) -> LiveTable:
        """My keys."""
        return self.query_one("#keys-table", LiveTable)

    def on_mount(self) -> None:
        self.query_one("#keys-empty").display = False
        self.table.focus()
        self.load()

    def highlighted(self) -> KeyView | None:
        """The key under the cursor."""
        wanted = self.table.highlighted_key
        return next((k for k in self.keys if str(k.id) == wanted), None)

    @work(exclusive=True, group="keys-load", exit_on_error=False)
    async def load(self) -> None:
        """Fetch my keys (and who I am, to mark the key this console uses)."""
        try:
            self.me, keys = await asyncio.gather(self.client.whoami(), self.client.list_keys())
        except Exception as error:
            self.loaded = True
            self.query_one("#keys-status", Static).update(
                Text(f"✗ Could not load your keys: {describe(error)}", style="bold red")
            )
            self.report(error, "load your keys")
            return
        self.keys = keys
        self.loaded = True
        self._fill()

    def _fill(self) -> None:
        self.table.show(key_rows(self.keys, self.context.clock()))
        self.table.display = bool(self.keys)
        empty = self.query_one("#keys-empty", Static)
        empty.display = not self.keys
        empty.update(
            "You have no API keys. Press [b]n[/b] to create one for a script, an agent or "
            "the CLI: it acts as you, limited to the deployments you choose."
        )
        counts = [f"{len(self.keys)} key(s)"]
        for state in KeyState:
            if count := sum(k.state is state for k in self.keys):
                counts.append(f"{count} {state.value}")
        status = " · ".join(counts)
        if self.me is not None and self.me.key_id is not None:
            status += f" · this console signs in with key {self.me.key_id}"
        self.query_one("#keys-status", Static).update(status)
        self._why()
        self.refresh_bindings()

    def _why(self) -> None:
        chosen = self.highlighted()
        line = self.query_one("#keys-why", Static)
        line.update(key_summary(chosen, self.context.clock()) if chosen else "")

    @on(DataTable.RowHighlighted, "#keys-table")
    def _highlighted(self) -> None:
        self._why()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "revoke":
            chosen = self.highlighted()
            return chosen is not None and chosen.state is not KeyState.REVOKED
        return True

    def action_refresh(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)

    # --- create ---------------------------------------------------------------------------

    def action_new_key(self) -> None:
        self.new_key()

    @work(exclusive=True, group="keys-change", exit_on_error=False)
    async def new_key(self) -> None:
        """Ask for a name, an expiry and a scope; show the secret once; list the key."""
        try:
            deployments = sorted(await self.client.list_deployments(), key=listing_order)
        except Exception as error:  # a key for every deployment needs no list
            self.report(error, "list the deployments a key may be limited to")
            deployments = []

        async def submit(new: KeyCreate) -> KeyCreated:
            return await self.client.create_key(new)

        created = await self.app.push_screen_wait(NewKeyModal(deployments, submit))
        if created is None:
            return
        self.keys = [created.key, *(k for k in self.keys if k.id != created.key.id)]
        self._fill()
        self.table.select(str(created.key.id))
        await self.app.push_screen_wait(KeySecretModal(created, self.context.clock()))

    # --- revoke ---------------------------------------------------------------------------

    def action_revoke(self) -> None:
        if (chosen := self.highlighted()) is not None:
            self.revoke(chosen)

    @work(exclusive=True, group="keys-change", exit_on_error=False)
    async def revoke(self, key: KeyView) -> None:
        """Revoke ``key`` after a confirmation (Cancel is the default: it cannot be undone)."""
        own = self.me is not None and self.me.key_id == key.id
        detail = (
            "Anything using it is refused from now on, open gateway sessions included. "
            "This cannot be undone."
        )
        if own:
            detail += " This console signs in with it: it stops working too."
        if not await self.app.push_screen_wait(
            ConfirmModal(
                f"Revoke key {key.name!r} ({key.prefix}…)?", detail, verb="Revoke", default=False
            )
        ):
            return
        try:
            revoked = await self.client.revoke_key(str(key.id))
        except Exception as error:
            self.report(error, f"revoke key {key.name}")
            return
        self.keys = [revoked if k.id == revoked.id else k for k in self.keys]
        self._fill()
        self.notify(f"Key {key.name!r} is revoked.", title="Revoked")
