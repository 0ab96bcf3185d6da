"""A catalog version's ``api_spec`` as server definitions: what was published, to show and check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcp_console.schemas.server_docs import ServerDefinitions

# The spec's lists, by the field each fills (the names ServerDefinitions dumps them under).
_LISTS = ("tools", "resources", "resource_templates", "prompts")


def spec_of(found: ServerDefinitions) -> dict[str, Any]:
    """The ``api_spec`` a version stores for ``found``: the snapshot ``docs --check`` reads."""
    return found.model_dump(mode="json")


def definitions_of(api_spec: Mapping[str, Any]) -> ServerDefinitions:
    """What a version's ``api_spec`` lists: a generated spec whole, or an author's or a
    catalog's spec for the parts it has (often ``tools`` alone); anything else is left out."""
    lists = {
        key: [item for item in api_spec.get(key) or [] if isinstance(item, dict)]
        for key in _LISTS
        if isinstance(api_spec.get(key), list)
    }
    named = {
        key: api_spec[key]
        for key in ("server_name", "server_version")
        if isinstance(api_spec.get(key), str)
    }
    return ServerDefinitions(**named, **lists)
