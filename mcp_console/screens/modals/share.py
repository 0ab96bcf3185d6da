"""ShareModal: who has access to a deployment; its owner adds and removes users and teams."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from mcp_console.schemas.deploy import DeploymentDetail, ShareCreate, ShareRole, ShareView
from mcp_console.schemas.errors import ConsoleError
from mcp_console.screens.access import allows, indefinite
from mcp_console.screens.modals.confirm import ConfirmModal
from mcp_console.widgets.choice import Choice
from mcp_console.widgets.timefmt import ago

AddShare = Callable[[ShareCreate], Awaitable[DeploymentDetail]]
RemoveShare = Callable[[ShareView], Awaitable[DeploymentDetail]]

ROLES_HELP = "Callers use its endpoint; operators also scale, update, stop it and read its logs."


def share_key(share: ShareView) -> str:
    """A share's id in the list: ``user:bob``, ``team:platform``."""
    return f"{share.kind}:{share.name}"


def share_label(share: ShareView, now: datetime) -> Text:
    """``user  bob            operator  since 3 days ago``."""
    text = Text(f"{share.kind:<5} ", style="dim")
    text.append(f"{share.name:<20} ", style="bold")
    text.append(f"{share.role.value:<9} ", style="cyan" if share.role is ShareRole.OPERATOR else "")
    text.append(f"since {ago(share.created_at, now)}", style="dim")
    return text


class ShareModal(ModalScreen[DeploymentDetail | None]):
    """Dismisses with the deployment as last changed, or ``None`` when nothing changed.

    The list shows everyone it is shared with; enter on one puts it in the form (to change
    its role), ``delete`` removes it after a confirmation. The form shares with a user or a
    team as a caller or an operator; what the backend refuses shows under the name. Only its
    owner and admins see the form.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="close"),
        Binding("delete,ctrl+d", "remove", "Remove", id="remove-share"),
    ]

    def __init__(
        self,
        detail: DeploymentDetail,
        add: AddShare,
        remove: RemoveShare,
        now: Callable[[], datetime],
    ) -> None:
        super().__init__()
        self.detail = detail
        self.changed: DeploymentDetail | None = None
        self._add = add
        self._remove = remove
        self._now = now
        self.may_change = allows(detail, "change_shares")

    def compose(self) -> ComposeResult:
        with Vertical(id="share-dialog", classes="dialog"):
            yield Label(f"Who has access to {self.detail.address}", classes="dialog-title")
            yield Static(
                f"{self.detail.owner} owns it; admins reach every deployment.",
                id="share-owner",
            )
            yield OptionList(id="share-list")
            yield Static("Nobody else has access yet.", id="share-none", classes="dialog-hint")
            yield Static(ROLES_HELP, classes="dialog-hint")
            if self.may_change:
                yield from self._form()
            else:
                yield Static(
                    f"Only {self.detail.owner} (its owner) and admins may change who has access.",
                    id="share-readonly",
                )
            yield Label(self._hint(), id="share-hint", classes="dialog-hint")

    def _form(self) -> ComposeResult:
        with Horizontal(classes="share-row"):
            yield Label("Share with", classes="share-label")
            yield Choice([("user", "User"), ("team", "Team")], id="share-kind")
            yield Input(placeholder="a user name", id="share-name", max_length=100, compact=True)
        yield Static("", id="share-error", classes="field-error")
        with Horizontal(classes="share-row"):
            yield Label("as", classes="share-label")
            yield Choice([("caller", "Caller"), ("operator", "Operator")], id="share-role")
            yield Button("Share", id="share-add", compact=True)
        yield Static("", id="share-done")

    def _hint(self) -> str:
        if not self.may_change:
            return "esc: close    ↑/↓: move in the list"
        return "enter: share    del: remove the highlighted    tab: next    esc: close"

    def on_mount(self) -> None:
        self._show_shares()
        if self.may_change:
            self.query_one("#share-name", Input).focus()
        else:
            self.query_one("#share-list", OptionList).focus()

    # --- the list ---------------------------------------------------------------------------

    def _show_shares(self, keep: str | None = None) -> None:
        listing = self.query_one("#share-list", OptionList)
        shares = self.detail.shares
        now = self._now()
        listing.set_options([Option(share_label(s, now), id=share_key(s)) for s in shares])
        listing.display = bool(shares)
        self.query_one("#share-none").display = not shares
        keys = [share_key(s) for s in shares]
        if keep in keys:
            listing.highlighted = keys.index(keep)

    def highlighted_share(self) -> ShareView | None:
        """The share under the list's cursor."""
        listing = self.query_one("#share-list", OptionList)
        index = listing.highlighted
        if index is None or not 0 <= index < len(self.detail.shares):
            return None
        return self.detail.shares[index]

    @on(OptionList.OptionSelected, "#share-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        """Enter on a share puts it in the form, to change its role."""
        event.stop()
        share = self.highlighted_share()
        if share is None or not self.may_change:
            return
        self.query_one("#share-kind", Choice).value = share.kind
        self.query_one("#share-name", Input).value = share.name
        role = self.query_one("#share-role", Choice)
        role.value = ShareRole.OPERATOR if share.role is ShareRole.CALLER else ShareRole.CALLER
        role.focus()

    # --- adding -----------------------------------------------------------------------------

    @on(Choice.Changed, "#share-kind")
    def _kind_changed(self) -> None:
        kind = self.query_one("#share-kind", Choice).value
        self.query_one("#share-name", Input).placeholder = f"a {kind} name"

    @on(Input.Changed, "#share-name")
    def _name_changed(self) -> None:
        """A complaint about the name goes as soon as it is being fixed."""
        self.show_error(None)

    @on(Input.Submitted, "#share-name")
    @on(Choice.Confirmed, "#share-role")
    @on(Button.Pressed, "#share-add")
    def _share(self, event: Input.Submitted | Choice.Confirmed | Button.Pressed) -> None:
        event.stop()
        kind = self.query_one("#share-kind", Choice).value
        name = self.query_one("#share-name", Input).value.strip()
        if not name:
            self.show_error(f"{kind}: type the name of the {kind} to share with")
            return
        role = ShareRole(self.query_one("#share-role", Choice).value)
        share = ShareCreate(role=role, **{kind: name})
        self.show_error(None)
        self.add_share(share, kind, name)

    @work(exclusive=True, group="share-change", exit_on_error=False)
    async def add_share(self, share: ShareCreate, kind: str, name: str) -> None:
        """Share (or change the role of a share); a refusal stays in the dialog."""
        try:
            detail = await self._add(share)
        except Exception as error:  # the dialog stays open with the reason
            self.show_error(_reason(error))
            return
        self._changed(detail, f"{kind}:{name}")
        self.query_one("#share-name", Input).value = ""
        self._say(f"✓ {kind} {name} is now {indefinite(share.role)} of {detail.address}.")

    def show_error(self, message: str | None) -> None:
        """Show why the share was refused, next to the name, and go back to it."""
        self.query_one("#share-error", Static).update(f"✗ {message}" if message else "")
        field = self.query_one("#share-name", Input)
        field.set_class(bool(message), "-invalid")
        if message:
            self._say("")
            field.focus()

    def _say(self, message: str, *, error: bool = False) -> None:
        """What the last change did (or why it was refused), under the form or the list."""
        self.query_one("#share-done", Static).update(
            Text(message, style="red" if error else "green")
        )

    def _changed(self, detail: DeploymentDetail, keep: str | None = None) -> None:
        self.detail = self.changed = detail
        self._show_shares(keep)

    # --- removing ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "remove":
            listing = self.query_one("#share-list", OptionList)
            return self.may_change and listing.has_focus and self.highlighted_share() is not None
        return True

    def action_remove(self) -> None:
        share = self.highlighted_share()
        if share is not None:
            self.remove_share(share)

    @work(exclusive=True, group="share-change", exit_on_error=False)
    async def remove_share(self, share: ShareView) -> None:
        """Remove one share after a confirmation."""
        who = f"{share.kind} {share.name}"
        if not await self.app.push_screen_wait(
            ConfirmModal(
                f"Remove {who} from {self.detail.address}?",
                f"{who} loses their {share.role.value} access at once, open sessions included.",
                verb="Remove",
            )
        ):
            return
        try:
            detail = await self._remove(share)
        except Exception as error:  # the dialog stays open with the reason
            self._say(f"✗ {_reason(error)}", error=True)
            return
        self._changed(detail)
        self._say(f"✓ {who} no longer has access to {detail.address}.")

    def action_close(self) -> None:
        self.dismiss(self.changed)


def _reason(error: BaseException) -> str:
    if isinstance(error, ConsoleError):
        return error.message
    return f"{type(error).__name__}: {error}"
