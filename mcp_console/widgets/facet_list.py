"""FacetList: featured services, categories and tags with counts, in one keyboard list."""

from __future__ import annotations

from typing import Literal

from rich.table import Table
from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from mcp_console.schemas.catalog import CategoryCount, ServiceView, TagCount

FacetKind = Literal["category", "tag"]


def _counted(name: str, count: int) -> Table:
    """``name`` and its count, the count right-aligned at whatever width the list has."""
    grid = Table.grid(expand=True)
    grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    grid.add_column(justify="right", style="dim")
    grid.add_row(name, str(count))
    return grid


def _heading(title: str) -> Option:
    return Option(Text(title, style="bold underline"), disabled=True)


class FacetList(OptionList):
    """Choosing a category or tag asks for it as a filter; choosing a featured service opens it."""

    DEFAULT_CSS = """
    FacetList {
        width: 100%;
        height: 1fr;
    }
    """

    class FacetChosen(Message):
        """A category or tag was chosen: add ``kind:value`` to the query."""

        def __init__(self, kind: FacetKind, value: str) -> None:
            super().__init__()
            self.kind: FacetKind = kind
            self.value = value

    class ServiceChosen(Message):
        """A featured service was chosen."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._featured: list[ServiceView] = []
        self._categories: list[CategoryCount] = []
        self._tags: list[TagCount] = []

    def show(
        self,
        featured: list[ServiceView],
        categories: list[CategoryCount],
        tags: list[TagCount],
    ) -> None:
        """Replace the lists (the highlighted entry stays where it was when it still exists)."""
        self._featured, self._categories, self._tags = featured, categories, tags
        self._rebuild()

    def _rebuild(self) -> None:
        kept = self.highlighted_option.id if self.highlighted_option is not None else None
        options: list[Option] = []
        if self._featured:
            options.append(_heading("Featured"))
            options += [
                Option(Text("★ " + s.display_name, no_wrap=True), id=f"service:{s.name}")
                for s in self._featured
            ]
        if self._categories:
            options.append(_heading("Categories"))
            options += [
                Option(_counted(c.name, c.count), id=f"category:{c.name}") for c in self._categories
            ]
        if self._tags:
            options.append(_heading("Tags"))
            options += [Option(_counted(t.name, t.count), id=f"tag:{t.name}") for t in self._tags]
        self.set_options(options)
        ids = [option.id for option in options]
        if kept in ids:
            self.highlighted = ids.index(kept)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        kind, _, value = (event.option_id or "").partition(":")
        if kind == "service":
            self.post_message(self.ServiceChosen(value))
        elif kind == "category":
            self.post_message(self.FacetChosen("category", value))
        elif kind == "tag":
            self.post_message(self.FacetChosen("tag", value))
