"""Catalog formats: official server.json, the registry's 2025-05 seed, Docker's catalog."""

from __future__ import annotations

from mcp_console.backend.catalog.formats.common import ImportEntry, registry_name
from mcp_console.backend.catalog.formats.document import parse_document
from mcp_console.backend.catalog.formats.export import export_server_json
from mcp_console.backend.catalog.formats.files import read_catalog_path
from mcp_console.backend.catalog.formats.server_json import SCHEMA_URL, validate_server_json

__all__ = [
    "SCHEMA_URL",
    "ImportEntry",
    "export_server_json",
    "parse_document",
    "read_catalog_path",
    "registry_name",
    "validate_server_json",
]
