"""A version's API spec generated from the server travels in server.json (``_meta`` ``apiSpec``)."""

from __future__ import annotations

import json
from typing import Any

from mcp_console.backend.catalog.formats import ImportEntry, export_server_json, parse_document
from mcp_console.schemas.catalog import CatalogDocument, ImportProblem
from tests.backend.test_formats import schema_errors, stored

SPEC = {
    "server_name": "notes",
    "server_version": "1.0.0",
    "tools": [{"name": "add_note", "inputSchema": {"type": "object"}}],
    "resources": [{"uri": "notes://all", "name": "all"}],
    "resource_templates": [],
    "prompts": [{"name": "summarize"}],
}


def _document(meta: dict[str, Any]) -> CatalogDocument:
    server = {
        "name": "io.github.ann/notes",
        "description": "Notes",
        "version": "1.0.0",
        "packages": [
            {
                "registryType": "pypi",
                "identifier": "notes",
                "version": "1.0.0",
                "transport": {"type": "stdio"},
            }
        ],
        "_meta": {"io.mcp-console/catalog": meta},
    }
    return CatalogDocument(origin="server.json", text=json.dumps(server))


def test_a_generated_spec_is_kept_whole_and_exported_back() -> None:
    [entry] = parse_document(_document({"apiSpec": SPEC}))
    assert isinstance(entry, ImportEntry)
    assert entry.version.api_spec == SPEC
    exported = export_server_json(*stored(entry))
    assert schema_errors(exported) == []
    assert exported["_meta"]["io.mcp-console/catalog"]["apiSpec"] == SPEC
    [back] = parse_document(CatalogDocument(origin="again.json", text=json.dumps(exported)))
    assert isinstance(back, ImportEntry)
    assert back.version.api_spec == SPEC


def test_a_spec_that_is_not_one_is_named_by_its_path() -> None:
    [problem] = parse_document(_document({"apiSpec": {"tools": ["add_note"]}}))
    assert isinstance(problem, ImportProblem)
    assert problem.reason == (
        '_meta["io.mcp-console/catalog"].apiSpec.tools: must be a list of objects'
    )
