"""ReviewModal: write or edit your review; errors are shown in place, naming the field."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from pydantic import ValidationError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static, TextArea

from mcp_console.schemas.catalog import MAX_COMMENT_LENGTH, ReviewCreate, ReviewView
from mcp_console.schemas.errors import ConsoleError
from mcp_console.widgets.stars import StarPicker

SubmitReview = Callable[[ReviewCreate], Awaitable[ReviewView]]


def validation_message(error: ValidationError) -> tuple[str, str]:
    """The first problem of a pydantic error as ``(field, sentence)``."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "review"
    if field == "rating":
        return field, "rating: choose 1 to 5 stars (keys 1-5 or ←/→)"
    return field, f"{field}: {first['msg']}"


class ReviewModal(ModalScreen[ReviewView | None]):
    """Dismisses with the saved review, or ``None`` when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True, id="save"),
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    def __init__(self, service: str, submit: SubmitReview, existing: ReviewView | None) -> None:
        super().__init__()
        self.service = service
        self._submit = submit
        self._existing = existing

    def compose(self) -> ComposeResult:
        verb = "Edit your review" if self._existing else "Review"
        with Vertical(id="review-dialog", classes="dialog"):
            yield Label(f"{verb} of {self.service}", classes="dialog-title")
            yield Label("Rating", classes="field-label")
            yield StarPicker(self._existing.rating if self._existing else 0, id="review-rating")
            yield Label("Comment (optional)", classes="field-label")
            yield TextArea(
                self._existing.comment if self._existing else "",
                id="review-comment",
                soft_wrap=True,
                show_line_numbers=False,
            )
            yield Static("", id="review-count", classes="dialog-hint")
            yield Static("", id="review-error", classes="field-error")
            yield Label("ctrl+s: save    esc: cancel    tab: next field", classes="dialog-hint")

    def on_mount(self) -> None:
        self._count()

    @on(TextArea.Changed)
    def _count(self) -> None:
        length = len(self.query_one("#review-comment", TextArea).text)
        over = length > MAX_COMMENT_LENGTH
        counter = self.query_one("#review-count", Static)
        counter.update(f"{length}/{MAX_COMMENT_LENGTH} characters")
        counter.set_class(over, "-over")

    def show_error(self, message: str | None, field: str | None = None) -> None:
        """Show ``message`` under the form and mark the offending field."""
        self.query_one("#review-error", Static).update(f"✗ {message}" if message else "")
        for name, widget_id in (("rating", "#review-rating"), ("comment", "#review-comment")):
            self.query_one(widget_id).set_class(field == name, "-invalid")

    def action_save(self) -> None:
        rating = self.query_one(StarPicker).value
        comment = self.query_one("#review-comment", TextArea).text.strip()
        try:
            review = ReviewCreate(rating=rating, comment=comment)
        except ValidationError as error:
            field, message = validation_message(error)
            self.show_error(message, field)
            return
        self.show_error(None)
        self._save(review)

    @work(exclusive=True, group="review-save", exit_on_error=False)
    async def _save(self, review: ReviewCreate) -> None:
        try:
            saved = await self._submit(review)
        except ConsoleError as error:
            field = (error.field or "").split(".")[-1] or None
            self.show_error(error.message, field)
            return
        except Exception as error:  # the form stays open with the reason; nothing is lost
            self.show_error(f"{type(error).__name__}: {error}")
            return
        self.dismiss(saved)

    def action_cancel(self) -> None:
        self.dismiss(None)
