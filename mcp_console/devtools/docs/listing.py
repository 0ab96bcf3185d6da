"""A server's tools, resources, resource templates and prompts, every page, in a stable order."""

from __future__ import annotations

from typing import Any

from mcp import Client

from mcp_console.schemas.server_docs import ServerDefinitions

# A listing whose cursor never ends (a paginating bug) must not hang the generator.
MAX_PAGES = 50


async def _listed(client: Client, method: str, field: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await getattr(client, method)(cursor=cursor)
        items += [
            item.model_dump(by_alias=True, mode="json", exclude_none=True)
            for item in getattr(page, field)
        ]
        cursor = page.next_cursor
        if not cursor:
            break
    return items


def _sorted(items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: (str(item.get(key, "")), str(item.get("name", ""))))


async def list_definitions(client: Client) -> ServerDefinitions:
    """Everything ``client``'s server lists, each kind only if it has that capability.

    Args:
        client: an open SDK client session (either protocol era).

    Returns:
        The definitions sorted by name (resources by URI, templates by URI template).
    """
    capabilities = client.server_capabilities
    info = client.server_info
    found = ServerDefinitions(
        server_name=info.name if info else None,
        server_version=info.version if info else None,
    )
    if capabilities.tools is not None:
        found.tools = _sorted(await _listed(client, "list_tools", "tools"), "name")
    if capabilities.resources is not None:
        found.resources = _sorted(await _listed(client, "list_resources", "resources"), "uri")
        templates = await _listed(client, "list_resource_templates", "resource_templates")
        found.resource_templates = _sorted(templates, "uriTemplate")
    if capabilities.prompts is not None:
        found.prompts = _sorted(await _listed(client, "list_prompts", "prompts"), "name")
    return found
