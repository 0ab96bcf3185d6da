"""LiveTable: a DataTable refreshed in place, so a row updated every second does not flicker."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

Cell = str | Text
Row = tuple[str, Sequence[Cell]]


class LiveTable(DataTable[Cell]):
    """Rows keyed by a stable id; ``show`` changes only the cells that changed.

    When the set of rows stays the same (the usual case for a refresh), each cell is
    compared and updated where it differs: no rows are removed and re-added, the cursor
    and scroll position stay put. When rows come or go, the table is rebuilt and the
    cursor stays on the same key if it is still there.
    """

    def __init__(self, columns: Sequence[tuple[str, str]], *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._columns = list(columns)
        self._shown: dict[str, tuple[Cell, ...]] = {}

    def on_mount(self) -> None:
        for label, key in self._columns:
            self.add_column(label, key=key)

    @property
    def keys(self) -> list[str]:
        """The row keys, top to bottom."""
        return list(self._shown)

    @property
    def highlighted_key(self) -> str | None:
        """The key of the row under the cursor."""
        if not self.row_count:
            return None
        value = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return value if isinstance(value, str) else None

    def show(self, rows: Sequence[Row]) -> None:
        """Make the table hold exactly ``rows``, touching as little as possible."""
        wanted = {key: tuple(cells) for key, cells in rows}
        if list(wanted) == list(self._shown):
            for key, cells in wanted.items():
                old = self._shown[key]
                for (_, column), new, was in zip(self._columns, cells, old, strict=True):
                    if not _same(new, was):
                        self.update_cell(key, column, new)
            self._shown = wanted
            return
        kept = self.highlighted_key
        self.clear()
        for key, cells in wanted.items():
            self.add_row(*cells, key=key)
        self._shown = wanted
        if kept in wanted:
            self.move_cursor(row=list(wanted).index(kept))

    def select(self, key: str) -> None:
        """Put the cursor on the row ``key`` (if it is shown)."""
        if key in self._shown:
            self.move_cursor(row=list(self._shown).index(key))


def _same(new: Cell, was: Cell) -> bool:
    # Text equality ignores the base style, and a badge may change only its colour.
    if isinstance(new, Text) and isinstance(was, Text):
        return new.plain == was.plain and new.spans == was.spans and new.style == was.style
    return new == was
