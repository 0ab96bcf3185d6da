"""A version described as a command serving HTTP (and the host variables it needs) in
server.json ``_meta``: in, out, and back."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from mcp_console.backend.catalog.formats import ImportEntry, export_server_json, parse_document
from mcp_console.schemas.catalog import CatalogDocument, ImportProblem, Transport

from .test_formats import schema_errors, stored

OURS = "io.mcp-console/catalog"
DOCUMENT: dict[str, Any] = {
    "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
    "name": "io.github.acme/notes",
    "description": "Notes over HTTP",
    "version": "1.2.0",
    "_meta": {
        OURS: {
            "command": ["notes-server", "--listen", "127.0.0.1:{port}"],
            "transport": "streamable-http",
        }
    },
}


def _parse(document: dict[str, Any]) -> ImportEntry | ImportProblem:
    [result] = parse_document(CatalogDocument(origin="notes.json", text=json.dumps(document)))
    return result


def test_an_http_command_is_imported_exported_and_imported_again_the_same() -> None:
    entry = _parse(DOCUMENT)
    assert isinstance(entry, ImportEntry)
    assert entry.version.command == ["notes-server", "--listen", "127.0.0.1:{port}"]
    assert entry.version.transport == Transport.STREAMABLE_HTTP

    exported = export_server_json(*stored(entry))
    assert schema_errors(exported) == []
    assert exported["_meta"][OURS]["transport"] == "streamable-http"
    assert exported["_meta"][OURS]["command"] == DOCUMENT["_meta"][OURS]["command"]
    again = _parse(exported)
    assert isinstance(again, ImportEntry)
    assert again.version == entry.version


def test_a_stdio_command_says_nothing_of_its_transport() -> None:
    document = copy.deepcopy(DOCUMENT)
    del document["_meta"][OURS]["transport"]
    entry = _parse(document)
    assert isinstance(entry, ImportEntry)
    assert entry.version.transport == Transport.STDIO
    assert "transport" not in export_server_json(*stored(entry))["_meta"][OURS]


@pytest.mark.parametrize(
    ("meta", "words"),
    [
        ({"transport": "http"}, 'must be one of "stdio", "streamable-http", "sse"'),
        ({"transport": {"type": "streamable-http"}}, "must be one of"),
        ({"command": None, "transport": "streamable-http"}, "but there is no command"),
    ],
)
def test_a_wrong_transport_is_named_by_its_path(meta: dict[str, Any], words: str) -> None:
    document = copy.deepcopy(DOCUMENT)
    document["_meta"][OURS].update(meta)
    if document["_meta"][OURS]["command"] is None:
        del document["_meta"][OURS]["command"]
    problem = _parse(document)
    assert isinstance(problem, ImportProblem)
    assert problem.reason.startswith(f'_meta["{OURS}"].transport: ')
    assert words in problem.reason


def test_host_variables_a_version_needs_travel_in_our_meta() -> None:
    document = copy.deepcopy(DOCUMENT)
    document["_meta"][OURS]["passEnv"] = ["SSL_CERT_FILE", "HTTPS_PROXY", "SSL_CERT_FILE"]
    entry = _parse(document)
    assert isinstance(entry, ImportEntry)
    assert entry.version.pass_env == ["SSL_CERT_FILE", "HTTPS_PROXY"]
    exported = export_server_json(*stored(entry))
    assert exported["_meta"][OURS]["passEnv"] == ["SSL_CERT_FILE", "HTTPS_PROXY"]
    again = _parse(exported)
    assert isinstance(again, ImportEntry)
    assert again.version == entry.version
    # A version that needs none says nothing of them.
    plain = _parse(DOCUMENT)
    assert isinstance(plain, ImportEntry)
    assert "passEnv" not in export_server_json(*stored(plain))["_meta"][OURS]


@pytest.mark.parametrize(
    ("names", "words"),
    [
        (["SSL_CERT_FILE", "1BAD"], "'1BAD' is not an environment variable name"),
        (["A=B"], "'A=B' is not an environment variable name"),
        ("SSL_CERT_FILE", "must be a list of strings"),
    ],
)
def test_a_bad_host_variable_name_is_named_by_its_path(names: Any, words: str) -> None:
    document = copy.deepcopy(DOCUMENT)
    document["_meta"][OURS]["passEnv"] = names
    problem = _parse(document)
    assert isinstance(problem, ImportProblem)
    assert problem.reason.startswith(f'_meta["{OURS}"].passEnv: ')
    assert words in problem.reason
