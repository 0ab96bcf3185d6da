"""LiveTable: a DataTable refreshed in place, so a row updated every second does not flicker;
its columns share the width it has."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

from mcp_console.widgets.columns import Column, cut, fit_widths

Cell = str | Text
Row = tuple[str, Sequence[Cell]]


class LiveTable(DataTable[Cell]):
    """Rows keyed by a stable id; ``show`` changes only the cells that changed.

    When the set of rows stays the same (the usual case for a refresh), each cell is
    compared and updated where it differs: no rows are removed and re-added, the cursor
    and scroll position stay put. When rows come or go, the table is rebuilt and the
    cursor stays on the same key if it is still there.

    The columns fit the table's width (see ``fit_widths``): text too long is cut with an
    ellipsis and, on a narrow terminal, minor columns are hidden until it is wider again.
    """

    # The columns fit the width, so there is nothing to scroll sideways to (and no scrollbar
    # to appear while the first rows are laid out).
    DEFAULT_CSS = """
    LiveTable {
        overflow-x: hidden;
    }
    """

    def __init__(self, columns: Sequence[Column], *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._columns = list(columns)
        self._given: dict[str, tuple[Cell, ...]] = {}  # every cell, as handed to show()
        self._shown: dict[str, tuple[Text, ...]] = {}  # the shown columns' cells, cut to fit
        self._visible: list[int] = []  # which columns are on screen

    def on_mount(self) -> None:
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    @property
    def keys(self) -> list[str]:
        """The row keys, top to bottom."""
        return list(self._shown)

    @property
    def visible_columns(self) -> list[str]:
        """The labels of the columns on screen, left to right."""
        return [self._columns[i].label for i in self._visible]

    @property
    def highlighted_key(self) -> str | None:
        """The key of the row under the cursor."""
        if not self.row_count:
            return None
        value = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return value if isinstance(value, str) else None

    def show(self, rows: Sequence[Row]) -> None:
        """Make the table hold exactly ``rows``, touching as little as possible."""
        self._given = {key: tuple(cells) for key, cells in rows}
        self._fit()

    def select(self, key: str) -> None:
        """Put the cursor on the row ``key`` (if it is shown)."""
        if key in self._shown:
            self.move_cursor(row=list(self._shown).index(key))

    def _widths(self) -> list[int]:
        contents = [
            max((_width(cells[i]) for cells in self._given.values()), default=0)
            for i in range(len(self._columns))
        ]
        if not self.size.width:  # not laid out yet: every column, whole
            return [max(cell_len(c.label), n) for c, n in zip(self._columns, contents, strict=True)]
        width = self.size.width
        if len(self._given) + self.header_height > self.size.height:
            width -= self.styles.scrollbar_size_vertical
        return fit_widths(self._columns, contents, width, 2 * self.cell_padding)

    def _fit(self) -> None:
        widths = self._widths()
        visible = [i for i, width in enumerate(widths) if width]
        wanted = {
            key: tuple(cut(cells[i], widths[i], self._columns[i].justify) for i in visible)
            for key, cells in self._given.items()
        }
        kept = self.highlighted_key
        if visible != self._visible:
            self.clear(columns=True)
            for i in visible:
                column = self._columns[i]
                self.add_column(column.label, key=column.key or column.label)
            self._visible = visible
            self._shown = {}
        if list(wanted) == list(self._shown):
            keys = [self._columns[i].key or self._columns[i].label for i in visible]
            for row, cells in wanted.items():
                for key, new, was in zip(keys, cells, self._shown[row], strict=True):
                    if not _same(new, was):
                        self.update_cell(row, key, new, update_width=True)
            self._shown = wanted
            return
        self.clear()
        for row, cells in wanted.items():
            self.add_row(*cells, key=row)
        self._shown = wanted
        if kept in wanted:
            self.move_cursor(row=list(wanted).index(kept))


def _width(cell: Cell) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell)


def _same(new: Text, was: Text) -> bool:
    # Text equality ignores the base style, and a badge may change only its colour.
    return new.plain == was.plain and new.spans == was.spans and new.style == was.style
