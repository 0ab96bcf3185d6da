"""Read catalog documents from a file or a directory tree (the only I/O of the formats)."""

from __future__ import annotations

from pathlib import Path

from mcp_console.schemas.catalog import CatalogDocument
from mcp_console.schemas.errors import Invalid, NotFound

_SERVER_YAML = ("server.yaml", "server.yml")
_TOOLS_JSON = "tools.json"
_READMES = ("readme.md", "README.md", "Readme.md")


def read_catalog_path(path: Path) -> list[CatalogDocument]:
    """The documents at ``path``: the file itself, or every catalog file under a directory.

    A directory is walked recursively (hidden folders skipped) for each ``server.yaml`` (its
    sibling ``tools.json`` and readme ride along in ``extra_files``) and each ``*.json`` that is
    not a ``tools.json``; documents come sorted by path, so an import is deterministic.

    Raises:
        NotFound: nothing exists at ``path``.
        Invalid: ``path`` cannot be read.
    """
    if not path.exists():
        raise NotFound(f"no such file or directory: {path}", field="path")
    if path.is_file():
        return [_document(path)]
    if not path.is_dir():
        raise Invalid(f"not a file or directory: {path}", field="path")
    found = []
    for file in path.rglob("*"):
        relative = file.relative_to(path).parts
        if any(part.startswith(".") for part in relative) or not file.is_file():
            continue
        if file.name in _SERVER_YAML or (file.suffix == ".json" and file.name != _TOOLS_JSON):
            found.append(file)
    return [_document(file) for file in sorted(found)]


def _document(file: Path) -> CatalogDocument:
    extra: dict[str, str] = {}
    if file.name in _SERVER_YAML:
        tools = file.with_name(_TOOLS_JSON)
        if tools.is_file():
            extra[_TOOLS_JSON] = _read(tools)
        readme = next((file.with_name(n) for n in _READMES if file.with_name(n).is_file()), None)
        if readme is not None:
            extra["readme.md"] = _read(readme)
    return CatalogDocument(origin=str(file), text=_read(file), extra_files=extra)


def _read(file: Path) -> str:
    try:
        # A stray non-UTF-8 byte should not sink the whole import: parsing names the damage.
        return file.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError as exc:
        raise Invalid(f"cannot read {file}: {exc.strerror or exc}", field="path") from exc
