"""ServiceTable: one backend page of services at a time, so 100,000 rows cost what 30 do.

It draws each row as one strip of fixed-width cells instead of using DataTable: a new page
arrives on every keystroke, and DataTable renders every cell through Rich again each time
(tens of milliseconds for a screenful), which is most of a keystroke's budget.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import ClassVar, Literal

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.geometry import Region
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from mcp_console.schemas.catalog import PriceModel, SearchPage, ServiceStatus, ServiceView
from mcp_console.widgets.columns import Column, Justify, fit_widths
from mcp_console.widgets.stars import stars

CursorAt = Literal["top", "bottom", "keep"]
_STATUS_STYLES = {
    ServiceStatus.PUBLISHED: "green",
    ServiceStatus.DRAFT: "yellow",
    ServiceStatus.DEPRECATED: "red",
}


COLUMNS = (
    # The name matters most: it takes what the others leave, and they give up room first.
    Column("Service", least=12, grow=True),
    Column("Category", least=8, most=16),
    Column("Rating", cut=False),
    Column("Downloads", justify="right", cut=False),
    Column("Price", least=5),
    # Said by the status line for the usual search (published services only).
    Column("Status", least=6, hide=1),
)
_PADDING = 1


def humanize_count(count: int) -> str:
    """``1234`` → ``1.2k``, ``2500000`` → ``2.5M``: short enough for a narrow column."""
    if count < 1000:
        return str(count)
    if count < 1_000_000:
        return f"{count / 1000:.1f}k".replace(".0k", "k")
    return f"{count / 1_000_000:.1f}M".replace(".0M", "M")


def price_label(model: PriceModel, per_request: Decimal) -> str:
    """What a service costs, in at most nine characters."""
    if model is PriceModel.FREE:
        return "free"
    if model is PriceModel.FREEMIUM:
        return "freemium"
    amount = format(per_request.normalize(), "f") if per_request else "0"
    return f"${amount}"[:9]


def status_text(status: ServiceStatus) -> Text:
    """A service's status as a word coloured for the terminal (the word alone reads in mono)."""
    return Text(status.value.lower(), style=_STATUS_STYLES[status])


def fit(text: str, width: int, justify: Justify = "left") -> str:
    """``text`` in exactly ``width`` cells: cut with an ellipsis, or padded."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    pad = " " * (width - cell_len(text))
    return pad + text if justify == "right" else text + pad


Cell = tuple[str, Style | None]
_BOLD = Style(bold=True)
_YELLOW = Style(color="yellow")
_STATUS_RICH = {status: Style.parse(style) for status, style in _STATUS_STYLES.items()}


def _cells(service: ServiceView) -> tuple[Cell, ...]:
    """Each cell's text and style, computed once per page."""
    return (
        (service.display_name or service.name, _BOLD),
        (service.category or "—", None),
        (stars(service.rating_average, service.rating_count), _YELLOW),
        (humanize_count(service.downloads_count), None),
        (price_label(service.price_model, service.price_per_request), None),
        (service.status.value.lower(), _STATUS_RICH[service.status]),
    )


class ServiceTable(Widget, can_focus=True):
    """Shows one page of a search; moving past either end asks for the neighbouring page."""

    DEFAULT_CSS = """
    ServiceTable {
        height: 1fr;
        background: $surface;
        color: $foreground;
        &:focus {
            background-tint: $foreground 5%;
            & > .service-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
        & > .service-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .service-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .service-table--even-row {
            background: $surface-lighten-1 50%;
        }
        &:dark > .service-table--even-row {
            background: $surface-darken-1 40%;
        }
        & > .service-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "service-table--header",
        "service-table--even-row",
        "service-table--cursor",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Open", show=False, id="open"),
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("home", "first_row", "First row", show=False),
        Binding("end", "last_row", "Last row", show=False),
        Binding("pagedown", "next_page", "Next page", id="next-page"),
        Binding("pageup", "previous_page", "Prev page", show=False, id="previous-page"),
        Binding("ctrl+home", "first_page", "First page", show=False, id="first-page"),
        Binding("ctrl+end", "last_page", "Last page", show=False, id="last-page"),
    ]

    cursor_row: reactive[int] = reactive(0)
    """The highlighted row of the page."""

    class ServiceChosen(Message):
        """The user pressed enter on a service."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    class PageRequested(Message):
        """The user moved past the page: fetch ``page`` and put the cursor at ``cursor``."""

        def __init__(self, page: int, cursor: CursorAt) -> None:
            super().__init__()
            self.page = page
            self.cursor: CursorAt = cursor

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.page = 1
        self.page_size = 1
        self.total = 0
        self._items: list[ServiceView] = []
        self._rows: list[tuple[Cell, ...]] = []
        self._strips: dict[int, Strip] = {}
        self._widths: list[int] = []

    @property
    def names(self) -> list[str]:
        """The services on this page, in order."""
        return [s.name for s in self._items]

    @property
    def pages(self) -> int:
        """How many pages the current search has (at least one)."""
        return max(1, math.ceil(self.total / max(1, self.page_size)))

    @property
    def visible_rows(self) -> int:
        """How many rows fit under the header: the page size to ask the backend for."""
        return max(1, self.size.height - 1)

    @property
    def highlighted(self) -> ServiceView | None:
        """The service under the cursor."""
        if not 0 <= self.cursor_row < len(self._items):
            return None
        return self._items[self.cursor_row]

    def show_page(self, result: SearchPage, cursor: CursorAt = "top") -> None:
        """Replace the rows with ``result`` and place the cursor."""
        self.page, self.page_size, self.total = result.page, result.page_size, result.total
        self._items = list(result.items)
        self._rows = [_cells(s) for s in self._items]
        self._widths = []
        last = max(0, len(self._items) - 1)
        row = {"top": 0, "bottom": last, "keep": min(self.cursor_row, last)}[cursor]
        self.set_reactive(ServiceTable.cursor_row, row)
        self._strips.clear()
        self.refresh()

    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, len(self._items) - 1))

    def watch_cursor_row(self, old: int, new: int) -> None:
        # Only the two rows that changed are drawn again (the header is line 0).
        for row in (old, new):
            self._strips.pop(row, None)
            self.refresh(Region(0, row + 1, self.size.width, 1))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def on_resize(self) -> None:
        self._strips.clear()
        self._widths = []

    def on_focus(self) -> None:
        self._redraw()

    def on_blur(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        # The cursor row is drawn in other colours when the table has the focus.
        self._strips.clear()
        self.refresh()

    # --- drawing ------------------------------------------------------------------------

    def widths(self) -> list[int]:
        """Each column's width for this page and this size (0: hidden)."""
        if not self._widths:
            contents = [
                max((cell_len(row[i][0]) for row in self._rows), default=0)
                for i in range(len(COLUMNS))
            ]
            self._widths = fit_widths(COLUMNS, contents, self.size.width, 2 * _PADDING)
        return self._widths

    def render_line(self, y: int) -> Strip:
        widths = self.widths()
        base = self.rich_style
        if y == 0:
            style = base + self.get_component_rich_style("service-table--header")
            return self._strip(tuple((c.label, None) for c in COLUMNS), widths, style)
        row = y - 1
        if row >= len(self._rows):
            return Strip.blank(self.size.width, base)
        cached = self._strips.get(row)
        if cached is not None:
            return cached
        if row == self.cursor_row:
            style = base + self.get_component_rich_style("service-table--cursor")
        elif row % 2:
            style = base + self.get_component_rich_style("service-table--even-row")
        else:
            style = base
        strip = self._strip(self._rows[row], widths, style, cursor=row == self.cursor_row)
        self._strips[row] = strip
        return strip

    def _strip(
        self, cells: tuple[Cell, ...], widths: list[int], style: Style, *, cursor: bool = False
    ) -> Strip:
        pad = " " * _PADDING
        segments = []
        for (text, cell_style), width, column in zip(cells, widths, COLUMNS, strict=True):
            if not width:
                continue
            # On the cursor row the cursor's colours win, so the row reads as one bar.
            extra = _BOLD if cursor and cell_style is _BOLD else None if cursor else cell_style
            segments.append(Segment(pad, style))
            segments.append(Segment(fit(text, width, column.justify), style + extra))
            segments.append(Segment(pad, style))
        strip = Strip(segments)
        return strip.adjust_cell_length(self.size.width, style).crop(0, self.size.width)

    # --- keys ---------------------------------------------------------------------------

    def on_click(self, event: Click) -> None:
        row = event.y - 1
        if 0 <= row < len(self._items):
            if row == self.cursor_row and event.chain > 1:
                self.action_select()
            self.cursor_row = row

    def action_select(self) -> None:
        service = self.highlighted
        if service is not None:
            self.post_message(self.ServiceChosen(service.name))

    def action_cursor_down(self) -> None:
        if self._items and self.cursor_row >= len(self._items) - 1:
            if self.page < self.pages:
                self.post_message(self.PageRequested(self.page + 1, "top"))
            return
        self.cursor_row += 1

    def action_cursor_up(self) -> None:
        if self.cursor_row <= 0:
            if self.page > 1:
                self.post_message(self.PageRequested(self.page - 1, "bottom"))
            return
        self.cursor_row -= 1

    def action_first_row(self) -> None:
        self.cursor_row = 0

    def action_last_row(self) -> None:
        self.cursor_row = len(self._items) - 1

    def action_next_page(self) -> None:
        if self.page < self.pages:
            self.post_message(self.PageRequested(self.page + 1, "top"))
        else:
            self.action_last_row()

    def action_previous_page(self) -> None:
        if self.page > 1:
            self.post_message(self.PageRequested(self.page - 1, "top"))
        else:
            self.action_first_row()

    def action_first_page(self) -> None:
        self.post_message(self.PageRequested(1, "top"))

    def action_last_page(self) -> None:
        self.post_message(self.PageRequested(self.pages, "bottom"))
