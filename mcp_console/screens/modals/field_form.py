"""FieldFormModal: a form that sends one request and shows a refusal under the field it names."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar, TypeVar

from textual import on, work
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from mcp_console.schemas.errors import ConsoleError

T = TypeVar("T")


class FieldFormModal(ModalScreen[T | None]):
    """Dismisses with what the request returned, or ``None`` on ``esc``; a refusal keeps the
    form open, everything typed in place, and the reason under its field.

    A form names its ``PREFIX`` and ``FIELDS``: field ``f`` is ``#PREFIX-f``, the line under
    it ``#PREFIX-f-error`` (``.field-error``), and the one about no one field ``#PREFIX-error``.
    """

    DEFAULT_CSS = """
    FieldFormModal .field-error {
        display: none;
    }
    FieldFormModal .field-error.-shown {
        display: block;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    PREFIX: ClassVar[str]
    FIELDS: ClassVar[tuple[str, ...]]

    def refusal(self, error: ConsoleError) -> tuple[str, str | None]:
        """What to say of a refusal, and under which field (``None``: under the form)."""
        field = (error.field or "").split(".")[0]
        return error.message, field if field in self.FIELDS else None

    def show_error(self, message: str | None, field: str | None = None) -> None:
        """Show ``message`` under ``field`` (or under the form) and go to that field."""
        for name in (*self.FIELDS, None):
            shown = message is not None and name == field
            where = f"#{self.PREFIX}-{name}-error" if name else f"#{self.PREFIX}-error"
            error = self.query_one(where, Static)
            error.update(f"✗ {message}" if shown else "")
            error.set_class(shown, "-shown")
            if name is not None:
                self.query_one(f"#{self.PREFIX}-{name}").set_class(shown, "-invalid")
        if message is not None and field is not None:
            self.query_one(f"#{self.PREFIX}-{field}").focus()

    @on(Input.Changed)
    def _edited(self) -> None:
        """A complaint goes as soon as the field is being fixed."""
        self.show_error(None)

    @work(exclusive=True, group="form-send", exit_on_error=False)
    async def send(self, request: Callable[[], Awaitable[T]]) -> None:
        """Send ``request``; close with its answer, or stay with why it was refused."""
        self.show_error(None)
        try:
            done = await request()
        except ConsoleError as error:
            self.show_error(*self.refusal(error))
            return
        except Exception as error:  # the form stays open with the reason
            self.show_error(f"{type(error).__name__}: {error}")
            return
        self.dismiss(done)

    def action_cancel(self) -> None:
        self.dismiss(None)
