"""The starter catalog offered on first run: server.json documents shipped with the package."""

from __future__ import annotations

from importlib import resources

from mcp_console.schemas.catalog import CatalogDocument, CatalogFormat


def starter_documents() -> list[CatalogDocument]:
    """Every bundled ``server.json``, ready for ``ConsoleClient.import_catalog``."""
    folder = resources.files(__package__)
    return [
        CatalogDocument(
            origin=f"starter/{entry.name}",
            text=entry.read_text("utf-8"),
            format=CatalogFormat.SERVER_JSON,
        )
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".json")
    ]
