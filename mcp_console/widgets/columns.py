"""Table columns that share the width they are given: long text is cut, minor columns hidden."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.cells import cell_len
from rich.text import Text

Justify = Literal["left", "right"]


@dataclass(frozen=True)
class Column:
    """A column of a table and how it gives up room when the table is narrow.

    Args:
        label: the header.
        key: a stable id (DataTable's column key).
        justify: alignment of the cells.
        least: the fewest cells it is cut to (never fewer than its label's); a column that
            may not be cut (``cut=False``) always shows its widest cell.
        most: the most cells its content claims (0: no limit).
        cut: whether its text may be cut short, with an ellipsis.
        grow: whether it takes the room left once every column shows all it holds.
        hide: the order in which columns are hidden when even their least widths do not
            fit (1 first; 0 never).
    """

    label: str
    key: str = ""
    justify: Justify = "left"
    least: int = 0
    most: int = 0
    cut: bool = True
    grow: bool = False
    hide: int = 0


def fit_widths(
    columns: Sequence[Column], contents: Sequence[int], width: int, padding: int
) -> list[int]:
    """Each column's width (0: hidden) so that the table fits ``width`` cells if it can.

    ``contents`` holds the widest cell of each column. Every shown column gets its least
    width; what is left is shared out evenly among the columns that hold more, so short
    columns show whole and long ones share the rest; a column that grows then takes
    whatever remains. ``padding`` is the cells each shown column adds around its text.
    """
    wanted = []
    for column, content in zip(columns, contents, strict=True):
        natural = max(cell_len(column.label), content)
        wanted.append(min(natural, column.most) if column.most else natural)
    least = [
        min(want, max(c.least, cell_len(c.label))) if c.cut else want
        for c, want in zip(columns, wanted, strict=True)
    ]
    shown = list(range(len(columns)))

    def spare() -> int:
        return width - sum(least[i] + padding for i in shown)

    hidden: list[int] = []
    for i in sorted((i for i, c in enumerate(columns) if c.hide), key=lambda i: columns[i].hide):
        if spare() >= 0:
            break
        shown.remove(i)
        hidden.append(i)
    # Hiding a later column may have made room for one hidden before it.
    for i in reversed(hidden[:-1]):
        if spare() >= least[i] + padding:
            shown = sorted([*shown, i])
    widths = [least[i] if i in shown else 0 for i in range(len(columns))]
    left = spare()
    hungry = [i for i in shown if widths[i] < wanted[i]]
    while left > 0 and hungry:
        share = max(1, left // len(hungry))
        for i in hungry:
            given = min(share, wanted[i] - widths[i], left)
            widths[i] += given
            left -= given
        hungry = [i for i in hungry if widths[i] < wanted[i]]
    growing = [i for i in shown if columns[i].grow]
    if left > 0 and growing:
        widths[growing[0]] += left
    return widths


def cut(text: str | Text, width: int, justify: Justify = "left") -> Text:
    """``text`` in at most ``width`` cells, cut with an ellipsis (styles kept)."""
    fitted = Text(text, no_wrap=True, end="") if isinstance(text, str) else text.copy()
    fitted.no_wrap = True
    if fitted.cell_len > width:
        fitted.truncate(width, overflow="ellipsis")
    if justify == "right":
        fitted.justify = "right"
    return fitted
