"""A server's API document as one self-contained HTML page (inline style, every text escaped)."""

from __future__ import annotations

import re
from html import escape

from mcp_console.devtools.docs.page import Entry, Example, Page, Section, Table

COLUMNS = ("Field", "Type", "Required", "Default", "Details", "Description")
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #222; }
h1 { margin-bottom: .2rem; }
h3 code { font-size: 1.05em; }
section.entry { border-top: 1px solid #ddd; padding-top: .5rem; }
.description { white-space: pre-wrap; }
.badge { display: inline-block; border-radius: .8rem; padding: .05rem .6rem; margin-right: .3rem;
  font-size: .8rem; background: #eef; border: 1px solid #99c; }
.badge.destructive { background: #fee; border-color: #c99; }
table { border-collapse: collapse; margin: .4rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
caption { text-align: left; font-weight: bold; padding: .2rem 0; }
nav li { margin: .2rem 0; }
"""
# Only a page with examples carries their style: a page without stays byte for byte as it was.
EXAMPLE_STYLE = """pre { background: #f6f6f6; border: 1px solid #ddd; padding: .5rem; }
"""


def _table(table: Table) -> list[str]:
    if not table.rows:
        return [f"<p><strong>{escape(table.caption)}:</strong> none</p>"]
    lines = [f"<table><caption>{escape(table.caption)}</caption>"]
    lines.append("<tr>" + "".join(f"<th>{c}</th>" for c in COLUMNS) + "</tr>")
    for row in table.rows:
        default = f"<code>{escape(row.default)}</code>" if row.default else ""
        cells = [
            f"<code>{escape(row.path)}</code>",
            escape(row.type),
            "yes" if row.required else "no",
            default,
            escape(row.details),
            escape(row.description),
        ]
        lines.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    lines.append("</table>")
    return lines


def _example(example: Example) -> list[str]:
    return [
        '<div class="example">',
        "<p><strong>Example</strong></p>",
        "<p>Arguments:</p>",
        f"<pre><code>{escape(example.arguments)}</code></pre>",
        "<p>Result:</p>",
        f"<pre><code>{escape(example.result)}</code></pre>",
        "</div>",
    ]


def _anchor(section: Section, entry: Entry) -> str:
    """An entry's id: its kind and name, anything a URL fragment cannot hold as ``-``."""
    kind = re.sub(r"[^a-z]+", "-", section.heading.lower())
    return f"{kind}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', entry.name).strip('-')}"


def _entry(entry: Entry, anchor: str) -> list[str]:
    title = f" ({escape(entry.title)})" if entry.title and entry.title != entry.name else ""
    lines = [
        f'<section class="entry" id="{escape(anchor)}">',
        f"<h3><code>{escape(entry.name)}</code>{title}</h3>",
    ]
    if entry.badges:
        spans = "".join(f'<span class="badge {escape(b)}">{escape(b)}</span>' for b in entry.badges)
        lines.append(f"<p>{spans}</p>")
    if entry.description:
        lines.append(f'<p class="description">{escape(entry.description)}</p>')
    if entry.facts:
        lines.append("<ul>")
        lines += [
            f"<li>{escape(label)}: <code>{escape(value)}</code></li>"
            for label, value in entry.facts
        ]
        lines.append("</ul>")
    for table in entry.tables:
        lines += _table(table)
    if entry.example is not None:
        lines += _example(entry.example)
    lines.append("</section>")
    return lines


def _anchors(page: Page) -> dict[int, str]:
    """Each entry's id, unique in the page (a repeat gets ``-2``, ``-3``, ...)."""
    found: dict[int, str] = {}
    taken: set[str] = set()
    for section in page.sections:
        for entry in section.entries:
            anchor = base = _anchor(section, entry)
            n = 1
            while anchor in taken:
                n += 1
                anchor = f"{base}-{n}"
            taken.add(anchor)
            found[id(entry)] = anchor
    return found


def _has_examples(page: Page) -> bool:
    return any(e.example is not None for s in page.sections for e in s.entries)


def render_html(page: Page) -> str:
    """The whole page; the same document always gives the same bytes."""
    lines = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{escape(page.title)}</title>",
        f"<style>{STYLE}{EXAMPLE_STYLE if _has_examples(page) else ''}</style>",
        "</head>",
        "<body>",
        f"<h1>{escape(page.title)}</h1>",
        f"<p>{escape(page.summary)}.</p>",
    ]
    anchors = _anchors(page)
    lines.append("<nav><ul>")
    for section in page.sections:
        links = ", ".join(
            f'<a href="#{escape(anchors[id(e)])}"><code>{escape(e.name)}</code></a>'
            for e in section.entries
        )
        lines.append(f"<li>{escape(section.heading)}: {links}</li>")
    lines.append("</ul></nav>")
    for section in page.sections:
        lines.append(f"<h2>{escape(section.heading)}</h2>")
        for entry in section.entries:
            lines += _entry(entry, anchors[id(entry)])
    lines += ["</body>", "</html>"]
    return "\n".join(lines) + "\n"
