"""A version's API as the console shows it: the document ``mcp-console docs`` writes, in Rich."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from mcp_console.devtools.docs.page import Entry, build_page
from mcp_console.devtools.docs.page import Table as FieldTable
from mcp_console.devtools.docs.published import definitions_of

EMPTY = (
    "This version does not list its tools. They appear here when the catalog entry "
    "describes them or its author publishes the spec generated from the server "
    "(mcp-console dev publish)."
)


def _fields(table: FieldTable) -> RenderableType:
    if not table.rows:
        return Text(f"{table.caption}: none", style="dim")
    grid = Table(box=None, show_header=True, header_style="bold", pad_edge=False, expand=True)
    grid.add_column(table.caption, no_wrap=True, ratio=3)
    grid.add_column("Type", ratio=2)
    grid.add_column("Notes", ratio=5)
    for row in table.rows:
        name = Text(row.path, style="bold")
        if row.required:
            name.append(" *", style="bold red")
        notes = Text()
        if row.default:
            notes.append(f"default {row.default} ", style="cyan")
        if row.details:
            notes.append(f"{row.details} ", style="magenta")
        notes.append(row.description)
        grid.add_row(name, row.type, notes)
    return grid


def _entry(entry: Entry) -> list[RenderableType]:
    title = Text(entry.name, style="bold cyan")
    if entry.title and entry.title != entry.name:
        title.append(f" ({entry.title})")
    for badge in entry.badges:
        title.append(" ")
        title.append(f" {badge} ", style="reverse")
    parts: list[RenderableType] = [title]
    if entry.description:
        parts.append(Padding(Text(entry.description), (0, 0, 0, 2)))
    for label, value in entry.facts:
        parts.append(Text(f"  {label}: {value}", style="dim"))
    parts += [Padding(_fields(table), (0, 0, 0, 2)) for table in entry.tables]
    return [*parts, Text("")]


def api_renderable(api_spec: Mapping[str, Any]) -> RenderableType:
    """Every tool, resource, template and prompt of ``api_spec``, or why there are none."""
    page = build_page(definitions_of(api_spec))
    if not page.sections:
        return Text(EMPTY, style="dim")
    parts: list[RenderableType] = [Text(f"{page.summary}; * marks required", style="dim")]
    for section in page.sections:
        parts.append(Text(section.heading, style="bold underline"))
        for entry in section.entries:
            parts += _entry(entry)
    return Group(*parts)


class ApiReference(VerticalScroll, can_focus=True):
    """A version's ``api_spec``: tools with their input and output fields and annotation
    badges, then resources, resource templates and prompts."""

    DEFAULT_CSS = """
    ApiReference {
        height: 1fr;
        padding: 0 1;
    }
    ApiReference:focus {
        background: $boost;
    }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="tools-body")

    def show(self, api_spec: Mapping[str, Any]) -> None:
        """Render ``api_spec``."""
        self.query_one("#tools-body", Static).update(api_renderable(api_spec))
