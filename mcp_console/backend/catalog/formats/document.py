"""Parse one catalog document of any supported format into import entries and problems."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mcp_console.backend.catalog.formats.common import (
    DocumentError,
    EntryError,
    ImportEntry,
    entry_label,
    load_json,
    load_yaml,
)
from mcp_console.backend.catalog.formats.docker_catalog import entry_from_docker, is_docker_entry
from mcp_console.backend.catalog.formats.registry_seed import entry_from_seed, is_seed_entry
from mcp_console.backend.catalog.formats.server_json import entry_from_server
from mcp_console.schemas.catalog import CatalogDocument, CatalogFormat, ImportProblem

Result = list[ImportEntry | ImportProblem]
_YAML_SUFFIXES = (".yaml", ".yml")


def parse_document(doc: CatalogDocument) -> Result:
    """Every entry of a document, each parsed or turned into a problem naming what is wrong.

    ``doc.format`` AUTO detects: a server.json object, a registry list response
    (``{"servers": [{"server": {...}, "_meta": {...}}]}``), a JSON list of seed entries or of
    server.json documents, or a Docker catalog ``server.yaml``. A document that cannot be read
    at all gives one problem; a bad entry in a list gives a problem for that entry only.
    """
    try:
        data = _load(doc)
        return _dispatch(doc, data)
    except DocumentError as exc:
        return [ImportProblem(origin=doc.origin, entry=None, reason=str(exc))]


def _load(doc: CatalogDocument) -> Any:
    text = doc.text.lstrip("\ufeff")
    if not text.strip():
        raise DocumentError("empty document")
    as_yaml = doc.format == CatalogFormat.DOCKER_CATALOG or (
        doc.format == CatalogFormat.AUTO
        and (doc.origin.lower().endswith(_YAML_SUFFIXES) or text.lstrip()[:1] not in ("{", "["))
    )
    return load_yaml(text) if as_yaml else load_json(text)


def _dispatch(doc: CatalogDocument, data: Any) -> Result:
    fmt = doc.format
    # A YAML file with no version of its own is a Docker catalog entry, even a broken one.
    yaml_entry = doc.origin.lower().endswith(_YAML_SUFFIXES) and isinstance(data, Mapping)
    docker = is_docker_entry(data) or (yaml_entry and not {"version", "servers"} & set(data))
    if fmt == CatalogFormat.DOCKER_CATALOG or (fmt == CatalogFormat.AUTO and docker):
        return [_one(doc.origin, data, lambda raw, o: entry_from_docker(raw, o, doc.extra_files))]
    if fmt == CatalogFormat.REGISTRY_SEED:
        items = data if isinstance(data, list) else [data]
        return [_one(_at(doc, i, len(items)), raw, entry_from_seed) for i, raw in enumerate(items)]
    if isinstance(data, Mapping) and isinstance(data.get("servers"), list):
        return [
            _one(f"{doc.origin}:servers[{i}]", item, _from_list_item)
            for i, item in enumerate(data["servers"])
        ]
    if isinstance(data, list):
        return [_one(_at(doc, i, len(data)), raw, _auto_item(fmt)) for i, raw in enumerate(data)]
    if isinstance(data, Mapping):
        return [_one(doc.origin, data, _auto_item(fmt))]
    raise DocumentError(
        "not a catalog document: expected a server.json object, a registry list "
        '("servers"), a list of seed entries, or a Docker catalog server.yaml'
    )


def _at(doc: CatalogDocument, index: int, count: int) -> str:
    return f"{doc.origin}[{index}]" if count > 1 else doc.origin


def _one(
    origin: str, raw: object, parse: Callable[[object, str], ImportEntry]
) -> ImportEntry | ImportProblem:
    try:
        return parse(raw, origin)
    except EntryError as exc:
        wrapped = raw.get("server") if isinstance(raw, Mapping) else None
        label = entry_label(wrapped if isinstance(wrapped, Mapping) else raw)
        return exc.problem(origin, label)


def _auto_item(fmt: CatalogFormat) -> Callable[[object, str], ImportEntry]:
    def parse(raw: object, origin: str) -> ImportEntry:
        if fmt == CatalogFormat.AUTO and is_seed_entry(raw):
            return entry_from_seed(raw, origin)
        return _from_list_item(raw, origin)

    return parse


def _from_list_item(raw: object, origin: str) -> ImportEntry:
    """A registry list item (``{"server": ..., "_meta": ...}``) or a bare server.json."""
    if not isinstance(raw, Mapping):
        raise EntryError("", "must be an object")
    if isinstance(raw.get("server"), Mapping):
        return entry_from_server(raw["server"], origin, wrapper_meta=raw.get("_meta"))
    return entry_from_server(raw, origin)
