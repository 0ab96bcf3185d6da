"""Small catalog documents built in the tests: server.json texts and DTOs."""

from __future__ import annotations

import json
from typing import Any

from mcp_console.schemas.catalog import ServiceCreate, VersionCreate

SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
IMAGE = "mcp-console/example:1.0.0"


def server_json(
    name: str,
    version: str = "1.0.0",
    *,
    description: str = "An example server",
    category: str | None = None,
    tags: tuple[str, ...] = (),
) -> str:
    """A valid official server.json document for one OCI-packaged stdio server."""
    document: dict[str, Any] = {
        "$schema": SCHEMA_URL,
        "name": name,
        "description": description,
        "version": version,
        "packages": [
            {
                "registryType": "oci",
                "identifier": f"ghcr.io/acme/{name.rsplit('/', 1)[-1]}:{version}",
                "transport": {"type": "stdio"},
            }
        ],
    }
    meta: dict[str, Any] = {"tags": list(tags)}
    if category:
        meta["category"] = category
    document["_meta"] = {"io.mcp-console/catalog": meta}
    return json.dumps(document)


def service(
    name: str, *, category: str | None = None, tags: list[str] | None = None
) -> ServiceCreate:
    """A service to register."""
    return ServiceCreate(
        name=name, description=f"{name} does useful things", category=category, tags=tags or []
    )


def version(number: str = "1.0.0") -> VersionCreate:
    """A version with an image to run."""
    return VersionCreate(version=number, docker_image=IMAGE, changelog=f"release {number}")
