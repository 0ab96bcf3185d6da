"""HelpScreen: the keys of the screen you came from, the global keys and the search grammar."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

KeyHelp = tuple[str, str]
HelpSection = tuple[str, Sequence[KeyHelp]]

GRAMMAR: Sequence[KeyHelp] = (
    ("words", "match names, descriptions and tags (prefixes: git finds github)"),
    ('"two words"', "match a phrase"),
    ("category:NAME", 'one category; quote names with spaces: category:"dev ops"'),
    ("tag:NAME", "a tag; repeat for several (all must match)"),
    ("price:free|paid|freemium", "| accepts either"),
    ("status:published|draft|deprecated", "default: published"),
    ("author:NAME  featured:yes|no", ""),
    ("sort:relevance|rating|downloads|new|name", "or press s in the table to cycle"),
)


def _table(rows: Sequence[KeyHelp]) -> Table:
    table = Table(box=None, show_header=False, pad_edge=False, expand=True)
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for key, text in rows:
        table.add_row(key, text)
    return table


class HelpScreen(ModalScreen[None]):
    """Built from the bindings active where ``?`` was pressed, so it never goes stale.

    ``sections`` are what the screen adds (its filter syntax, say); by default the
    market's search grammar, which ``/`` reaches from anywhere.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close", id="close"),
    ]

    def __init__(
        self,
        where: str,
        keys: Sequence[KeyHelp],
        global_keys: Sequence[KeyHelp],
        sections: Sequence[HelpSection] | None = None,
    ) -> None:
        super().__init__()
        self.where = where
        self.keys = list(keys)
        self.global_keys = list(global_keys)
        self.sections = list(sections or [("Search filters (market)", GRAMMAR)])

    def compose(self) -> ComposeResult:
        parts: list[Text | Table] = [
            Text(f"Keys on {self.where}", style="bold underline"),
            _table(self.keys) if self.keys else Text("(none)", style="dim"),
            Text(""),
            Text("Everywhere", style="bold underline"),
            _table(self.global_keys),
        ]
        for title, rows in self.sections:
            parts += [Text(""), Text(title, style="bold underline"), _table(rows)]
        body = Group(*parts)
        with Vertical(id="help-dialog", classes="dialog"):
            yield Label("Help", classes="dialog-title")
            with VerticalScroll(id="help-body"):
                yield Static(body)
            yield Label("esc: close    ↑/↓: scroll", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
