"""A server's API document as Markdown (GitHub-flavoured tables)."""

from __future__ import annotations

from mcp_console.devtools.docs.page import Entry, Example, Page, Table

COLUMNS = ("Field", "Type", "Required", "Default", "Details", "Description")


def _cell(value: str) -> str:
    """Text that stays inside one table cell."""
    return value.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


def _code(value: str) -> str:
    """``value`` as inline code, however many backticks it holds itself."""
    fence = "`"
    while fence in value:
        fence += "`"
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def _table(table: Table) -> list[str]:
    if not table.rows:
        return [f"**{table.caption}:** none", ""]
    lines = [f"**{table.caption}**", "", "| " + " | ".join(COLUMNS) + " |"]
    lines.append("|" + "|".join("---" for _ in COLUMNS) + "|")
    for row in table.rows:
        cells = [
            _code(row.path),
            _cell(row.type),
            "yes" if row.required else "no",
            _code(row.default) if row.default else "",
            _cell(row.details),
            _cell(row.description),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def _block(value: str) -> list[str]:
    """``value`` as a fenced JSON block, however many backticks it holds itself."""
    fence = "```"
    while fence in value:
        fence += "`"
    return [f"{fence}json", value, fence, ""]


def _example(example: Example) -> list[str]:
    return [
        "**Example**",
        "",
        "Arguments:",
        "",
        *_block(example.arguments),
        "Result:",
        "",
        *_block(example.result),
    ]


def _entry(entry: Entry) -> list[str]:
    heading = f"### {_code(entry.name)}"
    if entry.title and entry.title != entry.name:
        heading += f" ({entry.title})"
    lines = [heading, ""]
    if entry.badges:
        lines += [" ".join(_code(b) for b in entry.badges), ""]
    if entry.description:
        lines += [entry.description, ""]
    if entry.facts:
        lines += [f"- {label}: {_code(value)}" for label, value in entry.facts]
        lines.append("")
    for table in entry.tables:
        lines += _table(table)
    if entry.example is not None:
        lines += _example(entry.example)
    return lines


def render_markdown(page: Page) -> str:
    """The whole document; the same page always gives the same text."""
    lines = [f"# {page.title}", "", page.summary + ".", ""]
    for section in page.sections:
        lines += [f"## {section.heading}", ""]
        for entry in section.entries:
            lines += _entry(entry)
    return "\n".join(lines).rstrip("\n") + "\n"
