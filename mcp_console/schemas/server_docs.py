"""What an MCP server lists about itself: the definitions its API docs are generated from."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mcp_console.schemas.base import Dto


class ServerDefinitions(Dto):
    """Every tool, resource, resource template and prompt a server lists, as it lists them.

    Each definition is the listing's own JSON (camelCase, as on the wire, empty fields
    left out), sorted by name (templates by URI template, resources by URI), so equal
    listings give equal documents.

    Attributes:
        server_name: the name the server gives itself (``None`` if it gives none).
        server_version: its version (``None`` if it gives none).
    """

    server_name: str | None = None
    server_version: str | None = None
    tools: list[dict[str, Any]] = Field(default_factory=list)
    resources: list[dict[str, Any]] = Field(default_factory=list)
    resource_templates: list[dict[str, Any]] = Field(default_factory=list)
    prompts: list[dict[str, Any]] = Field(default_factory=list)
