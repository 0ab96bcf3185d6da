"""The detail screen's Tools tab shows a version's published spec as the generated docs do."""

from __future__ import annotations

import io

from rich.console import Console

from mcp_console.devtools.docs.published import spec_of
from mcp_console.schemas.server_docs import ServerDefinitions
from mcp_console.widgets.api_reference import EMPTY, api_renderable
from tests.docs.test_rendering import ORDER


def shown(api_spec: dict[str, object]) -> str:
    out = io.StringIO()
    Console(file=out, width=120, color_system=None).print(api_renderable(api_spec))
    return out.getvalue()


def test_a_generated_spec_shows_nested_fields_badges_outputs_and_prompts() -> None:
    spec = spec_of(
        ServerDefinitions(
            server_name="shop",
            tools=[
                {
                    "name": "order",
                    "description": "Places an order.",
                    "inputSchema": ORDER,
                    "outputSchema": {"type": "object", "properties": {"id": {"type": "string"}}},
                    "annotations": {"readOnlyHint": False, "idempotentHint": True},
                }
            ],
            prompts=[{"name": "greet", "arguments": [{"name": "who", "required": True}]}],
        )
    )
    text = shown(spec)

    assert "1 tool, 0 resources, 0 resource templates, 1 prompt" in text
    assert " may write " in text
    assert " idempotent " in text
    assert "customer.address.city *" in text
    assert "lines[].sku *" in text
    assert 'default "slow" one of "slow", "fast"' in text
    assert "Output" in text
    assert "id" in text
    assert "Prompts" in text
    assert "who *" in text


def test_a_catalog_spec_of_tools_alone_shows_and_an_empty_one_says_why() -> None:
    text = shown({"tools": [{"name": "add", "inputSchema": {"type": "object"}}], "other": 1})

    assert "1 tool, 0 resources" in text
    assert "add" in text
    assert "Input: none" in text
    assert " ".join(shown({}).split()) == EMPTY
