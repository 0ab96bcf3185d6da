"""The document of a server's API, before any format: sections, badges, facts and field tables."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mcp_console.devtools.docs.schema_table import FieldRow, field_rows
from mcp_console.schemas.server_docs import ServerDefinitions

# A tool's annotation hints as badges: the label when the server says true, and when false.
# A hint the server leaves out gets no badge (clients then assume the cautious default).
HINTS = (
    ("readOnlyHint", "read-only", "may write"),
    ("destructiveHint", "destructive", "non-destructive"),
    ("idempotentHint", "idempotent", "not idempotent"),
    ("openWorldHint", "open-world", "closed-world"),
)


@dataclass(frozen=True, slots=True)
class Table:
    """A captioned table of fields."""

    caption: str
    rows: list[FieldRow]


@dataclass(frozen=True, slots=True)
class Example:
    """A recorded call of a tool: its arguments and the result, each as indented JSON."""

    arguments: str
    result: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One tool, resource, template or prompt."""

    name: str
    title: str | None
    description: str
    badges: list[str] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    example: Example | None = None


@dataclass(frozen=True, slots=True)
class Section:
    """All entries of one kind, under a heading."""

    heading: str
    entries: list[Entry]


@dataclass(frozen=True, slots=True)
class Page:
    """The whole document: a title, a summary line and the non-empty sections."""

    title: str
    summary: str
    sections: list[Section]


def text(value: Any) -> str:
    """A description as written, without the indentation a docstring carries."""
    return inspect.cleandoc(value) if isinstance(value, str) else ""


def badges(annotations: Any) -> list[str]:
    """The badges of a tool's annotations, in a fixed order."""
    if not isinstance(annotations, dict):
        return []
    found: list[str] = []
    for hint, yes, no in HINTS:
        if isinstance(annotations.get(hint), bool):
            found.append(yes if annotations[hint] else no)
    return found


def _tool(tool: dict[str, Any], example: Example | None = None) -> Entry:
    annotations = tool.get("annotations")
    title = tool.get("title") or (annotations or {}).get("title")
    tables = [Table("Input", field_rows(tool.get("inputSchema")))]
    if "outputSchema" in tool:
        tables.append(Table("Output", field_rows(tool["outputSchema"])))
    return Entry(
        name=str(tool.get("name", "")),
        title=title if isinstance(title, str) else None,
        description=text(tool.get("description")),
        badges=badges(annotations),
        tables=tables,
        example=example,
    )


def _facts(item: dict[str, Any], *keys: tuple[str, str]) -> list[tuple[str, str]]:
    return [(label, str(item[key])) for key, label in keys if item.get(key) is not None]


def _resource(resource: dict[str, Any]) -> Entry:
    return Entry(
        name=str(resource.get("uri", "")),
        title=resource.get("title") or resource.get("name"),
        description=text(resource.get("description")),
        facts=_facts(resource, ("mimeType", "MIME type"), ("size", "Size")),
    )


def _template(template: dict[str, Any]) -> Entry:
    return Entry(
        name=str(template.get("uriTemplate", "")),
        title=template.get("title") or template.get("name"),
        description=text(template.get("description")),
        facts=_facts(template, ("mimeType", "MIME type")),
    )


def _prompt(prompt: dict[str, Any]) -> Entry:
    # Prompt arguments are strings by definition: only their names and rules vary.
    rows = [
        FieldRow(
            path=str(a.get("name", "")),
            type="string",
            required=bool(a.get("required")),
            default="",
            details="",
            description=text(a.get("description")),
        )
        for a in prompt.get("arguments") or ()
        if isinstance(a, dict)
    ]
    return Entry(
        name=str(prompt.get("name", "")),
        title=prompt.get("title"),
        description=text(prompt.get("description")),
        tables=[Table("Arguments", rows)],
    )


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def build_page(found: ServerDefinitions, examples: Mapping[str, Example] | None = None) -> Page:
    """The document of ``found``: sections in a fixed order, entries as listed (sorted); a
    tool with an example in ``examples`` (by name) shows it."""
    name = found.server_name or "MCP server"
    title = f"{name} {found.server_version}" if found.server_version else name
    sections = [
        Section("Tools", [_tool(t, (examples or {}).get(str(t.get("name")))) for t in found.tools]),
        Section("Resources", [_resource(r) for r in found.resources]),
        Section("Resource templates", [_template(t) for t in found.resource_templates]),
        Section("Prompts", [_prompt(p) for p in found.prompts]),
    ]
    summary = ", ".join(
        [
            _counted(len(found.tools), "tool"),
            _counted(len(found.resources), "resource"),
            _counted(len(found.resource_templates), "resource template"),
            _counted(len(found.prompts), "prompt"),
        ]
    )
    return Page(title=title, summary=summary, sections=[s for s in sections if s.entries])
