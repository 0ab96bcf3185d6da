"""Schemas become readable tables and annotations badges; the pages escape what servers say."""

from __future__ import annotations

from typing import Any

from mcp_console.devtools.docs.output import DocFormat, render
from mcp_console.devtools.docs.schema_table import FieldRow, field_rows
from mcp_console.schemas.server_docs import ServerDefinitions

ORDER: dict[str, Any] = {
    "$defs": {
        "Line": {
            "type": "object",
            "properties": {
                "sku": {"type": "string", "pattern": "^[A-Z]{3}$", "description": "Stock code"},
                "quantity": {"type": "integer", "minimum": 1, "default": 1},
            },
            "required": ["sku"],
        },
        "Node": {
            "type": "object",
            "properties": {"child": {"$ref": "#/$defs/Node"}},
        },
    },
    "type": "object",
    "properties": {
        "customer": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "maxLength": 80},
                "address": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
            "required": ["name"],
        },
        "lines": {"type": "array", "items": {"$ref": "#/$defs/Line"}, "minItems": 1},
        "speed": {"type": "string", "enum": ["slow", "fast"], "default": "slow"},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        "tree": {"$ref": "#/$defs/Node"},
    },
    "required": ["customer", "lines"],
}


def test_nested_objects_arrays_enums_and_defaults_flatten_to_dotted_rows() -> None:
    rows = {row.path: row for row in field_rows(ORDER)}

    assert list(rows) == [
        "customer",
        "customer.name",
        "customer.address",
        "customer.address.city",
        "lines",
        "lines[].sku",
        "lines[].quantity",
        "speed",
        "note",
        "tree",
        "tree.child",
    ]
    assert rows["customer.address.city"] == FieldRow(
        "customer.address.city", "string", True, "", "", ""
    )
    # Required is per parent: address is optional even though its city is required.
    assert not rows["customer.address"].required
    assert rows["customer.name"].details == "max length 80"
    assert rows["lines"] == FieldRow("lines", "array of object (Line)", True, "", "min items 1", "")
    assert rows["lines[].sku"] == FieldRow(
        "lines[].sku", "string", True, "", "pattern ^[A-Z]{3}$", "Stock code"
    )
    assert (rows["lines[].quantity"].default, rows["lines[].quantity"].details) == ("1", "≥ 1")
    assert (rows["speed"].default, rows["speed"].details) == ('"slow"', 'one of "slow", "fast"')
    assert (rows["note"].type, rows["note"].default) == ("string | null", "null")
    # A schema that refers to itself stops after one level, named by its definition.
    assert rows["tree"].type == "object (Node)"
    assert rows["tree.child"].type == "Node"


def test_annotations_become_badges_in_both_formats() -> None:
    found = ServerDefinitions(
        server_name="files",
        tools=[
            {
                "name": "delete",
                "inputSchema": {"type": "object", "properties": {}},
                "annotations": {"destructiveHint": True, "openWorldHint": False},
            },
            {
                "name": "read",
                "inputSchema": {"type": "object", "properties": {}},
                "annotations": {
                    "readOnlyHint": True,
                    "idempotentHint": True,
                    "title": "Read a file",
                },
            },
        ],
    )

    md = render(found, DocFormat.MD)
    page = render(found, DocFormat.HTML)

    assert "### `delete`\n\n`destructive` `closed-world`\n" in md
    assert "### `read` (Read a file)\n\n`read-only` `idempotent`\n" in md
    assert '<span class="badge destructive">destructive</span>' in page
    assert '<span class="badge read-only">read-only</span>' in page


def test_what_a_server_says_is_escaped_in_html_and_kept_in_table_cells_in_markdown() -> None:
    found = ServerDefinitions(
        server_name="<b>evil</b>",
        tools=[
            {
                "name": "x<script>",
                "description": "Runs <script>alert(1)</script> & more",
                "inputSchema": {
                    "type": "object",
                    "properties": {"a": {"type": "string", "description": "one | two\nthree"}},
                },
            }
        ],
    )

    page = render(found, DocFormat.HTML)
    md = render(found, DocFormat.MD)

    assert "<script>" not in page
    assert "<b>evil</b>" not in page
    assert "Runs &lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert "<title>&lt;b&gt;evil&lt;/b&gt;</title>" in page
    assert "| `a` | string | no |  |  | one \\| two<br>three |" in md


def test_the_html_page_links_each_entry_by_a_unique_anchor() -> None:
    found = ServerDefinitions(
        tools=[
            {"name": "a b", "inputSchema": {}},
            {"name": "a-b", "inputSchema": {}},
        ],
        prompts=[{"name": "a b"}],
    )

    page = render(found, DocFormat.HTML)

    for anchor in ("tools-a-b", "tools-a-b-2", "prompts-a-b"):
        assert f'href="#{anchor}"' in page
        assert page.count(f'id="{anchor}"') == 1
