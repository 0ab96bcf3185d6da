"""A server's definitions in the format asked for, and the files ``--out`` writes."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path

from mcp_console.devtools.docs.check import snapshot_text
from mcp_console.devtools.docs.html_page import render_html
from mcp_console.devtools.docs.markdown import render_markdown
from mcp_console.devtools.docs.page import Example, build_page
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.server_docs import ServerDefinitions

SNAPSHOT_FILE = "definitions.json"


class DocFormat(StrEnum):
    """What ``docs`` writes: a Markdown or HTML document, or the JSON snapshot alone."""

    MD = "md"
    HTML = "html"
    JSON = "json"


DOCUMENT_FILES = {DocFormat.MD: "api.md", DocFormat.HTML: "api.html", DocFormat.JSON: SNAPSHOT_FILE}


def render(
    found: ServerDefinitions, fmt: DocFormat, examples: Mapping[str, Example] | None = None
) -> str:
    """The document of ``found`` in ``fmt`` (tools with ``examples`` showing them): the same
    definitions always give the same text."""
    if fmt is DocFormat.JSON:
        return snapshot_text(found)
    page = build_page(found, examples)
    return render_markdown(page) if fmt is DocFormat.MD else render_html(page)


def write(
    found: ServerDefinitions,
    fmt: DocFormat,
    out: Path,
    examples: Mapping[str, Example] | None = None,
) -> list[Path]:
    """Write the document and, beside it, the snapshot ``docs --check`` compares with.

    Returns:
        The files written.

    Raises:
        Invalid: ``out`` exists and is not a directory, or cannot be written.
    """
    if out.exists() and not out.is_dir():
        raise Invalid(f"{out} is not a directory", field="out")
    documents = {
        DOCUMENT_FILES[fmt]: render(found, fmt, examples),
        SNAPSHOT_FILE: snapshot_text(found),
    }
    written: list[Path] = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in documents.items():
            path = out / name
            # Written whole under a temporary name, then renamed: never a half-written file.
            partial = path.with_name(f".{name}.partial")
            partial.write_text(text, encoding="utf-8")
            partial.replace(path)
            written.append(path)
    except OSError as exc:
        raise Invalid(f"cannot write to {out}: {exc.strerror or exc}", field="out") from None
    return written
