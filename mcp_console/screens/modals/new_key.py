"""NewKeyModal: a new API key of mine, maybe expiring, maybe limited to some deployments."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from mcp_console.schemas.deploy import DeploymentView
from mcp_console.schemas.errors import ConsoleError, Invalid, NotFound
from mcp_console.schemas.users import KeyCreate, KeyCreated, parse_duration
from mcp_console.widgets.choice import CheckList

SubmitKey = Callable[[KeyCreate], Awaitable[KeyCreated]]
_FIELDS = ("name", "expires", "deployments")


def field_of(error: ConsoleError) -> str | None:
    """Which of the form's fields a refusal is about (``None``: the whole key)."""
    if isinstance(error, NotFound) and "deployment" in error.message:
        return "deployments"
    field = (error.field or "").split(".")[0]
    if field in ("expires", "expires_in"):
        return "expires"
    return field if field in _FIELDS else None


class NewKeyModal(ModalScreen[KeyCreated | None]):
    """Dismisses with the key as created (its secret inside, to be shown once), or ``None``.

    Enter in a field or ctrl+s creates it; what is wrong shows under the field in error.
    """

    DEFAULT_CSS = """
    NewKeyModal .field-error {
        display: none;
    }
    NewKeyModal .field-error.-shown {
        display: block;
    }
    NewKeyModal #key-deployments {
        height: auto;
        max-height: 6;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "create", "Create", priority=True, id="create-key"),
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    def __init__(self, deployments: Sequence[DeploymentView], submit: SubmitKey) -> None:
        super().__init__()
        self.deployments = list(deployments)
        self._submit = submit

    def compose(self) -> ComposeResult:
        with Vertical(id="new-key-dialog", classes="dialog"):
            yield Label("New API key", classes="dialog-title")
            yield Label("Name (what it is for)", classes="field-label", id="key-first")
            yield Input(placeholder="ci-bot", id="key-name", max_length=100, compact=True)
            yield Static("", id="key-name-error", classes="field-error")
            yield Label("Expires after (empty: when you revoke it)", classes="field-label")
            yield Input(placeholder="30d, 12h, 90m or 2w", id="key-expires", compact=True)
            yield Static("", id="key-expires-error", classes="field-error")
            yield Label(
                "Limited to (none chosen: every deployment you reach)", classes="field-label"
            )
            if self.deployments:
                yield CheckList(
                    *[(d.address, d.address) for d in self.deployments], id="key-deployments"
                )
            else:
                yield Static("You reach no deployments yet.", classes="dialog-hint")
            yield Static("", id="key-deployments-error", classes="field-error")
            yield Static("", id="key-error", classes="field-error")
            yield Label(
                "enter / ctrl+s: create    space: choose    tab: next    esc: cancel",
                classes="dialog-hint",
            )

    def on_mount(self) -> None:
        self.query_one("#key-name", Input).focus()

    def show_error(self, message: str | None, field: str | None = None) -> None:
        """Show ``message`` under ``field`` (or under the form) and go to that field."""
        for name in (*_FIELDS, None):
            shown = message is not None and name == field
            error = self.query_one(f"#key-{name}-error" if name else "#key-error", Static)
            error.update(f"✗ {message}" if shown else "")
            error.set_class(shown, "-shown")
            if name is not None and self.query(f"#key-{name}"):
                self.query_one(f"#key-{name}").set_class(shown, "-invalid")
        if message is not None and field is not None and self.query(f"#key-{field}"):
            self.query_one(f"#key-{field}").focus()

    def _draft(self) -> KeyCreate | None:
        name = self.query_one("#key-name", Input).value.strip()
        if not name:
            self.show_error("name: give the key a name, to tell it apart later", "name")
            return None
        expires = self.query_one("#key-expires", Input).value.strip() or None
        if expires is not None:
            try:
                parse_duration(expires)
            except Invalid as error:
                self.show_error(error.message, "expires")
                return None
        chosen = self.query(CheckList)
        deployments = [str(v) for v in chosen.first().selected] if chosen else []
        return KeyCreate(name=name, expires_in=expires, deployments=deployments)

    @on(Input.Changed)
    def _edited(self) -> None:
        """A complaint goes as soon as the field is being fixed."""
        self.show_error(None)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_create()

    def action_create(self) -> None:
        draft = self._draft()
        if draft is not None:
            self.show_error(None)
            self.create(draft)

    @work(exclusive=True, group="key-create", exit_on_error=False)
    async def create(self, draft: KeyCreate) -> None:
        """Ask for the key; a refusal stays in the form, at its field."""
        try:
            created = await self._submit(draft)
        except ConsoleError as error:
            self.show_error(error.message, field_of(error))
            return
        except Exception as error:  # the form stays open with the reason
            self.show_error(f"{type(error).__name__}: {error}")
            return
        self.dismiss(created)

    def action_cancel(self) -> None:
        self.dismiss(None)
