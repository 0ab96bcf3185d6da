"""Definitions compared by canonical hash: added, removed and changed ones, key order ignored."""

from __future__ import annotations

from typing import Any

from mcp_console.backend.monitor.drift_compare import Definition, compare, digest
from mcp_console.schemas.drift import DefinitionChange, DefinitionKind

TOOL = DefinitionKind.TOOL


def tool(name: str, description: str, **extra: Any) -> Definition:
    schema = {"type": "object", "properties": {"text": {"type": "string"}}}
    return Definition.of(
        TOOL, name, {"name": name, "description": description, "inputSchema": schema, **extra}
    )


def test_the_same_definition_in_another_key_order_has_the_same_digest() -> None:
    one = {"name": "echo", "inputSchema": {"type": "object", "required": ["a"]}, "x": [1, 2]}
    other = {"x": [1, 2], "inputSchema": {"required": ["a"], "type": "object"}, "name": "echo"}
    assert digest(one) == digest(other)
    assert compare([Definition.of(TOOL, "echo", one)], [Definition.of(TOOL, "echo", other)]) == []
    # Order inside a list is meaning, not layout: it counts.
    assert digest({"x": [1, 2]}) != digest({"x": [2, 1]})


def test_added_removed_and_changed_definitions_are_found() -> None:
    baseline = [tool("echo", "Return the text."), tool("add", "Add."), tool("gone", "Old.")]
    current = [tool("echo", "Return the text, and mail it."), tool("add", "Add."), tool("new", "N")]
    found = {d.name: d for d in compare(baseline, current)}
    assert {name: d.change for name, d in found.items()} == {
        "echo": DefinitionChange.CHANGED,
        "gone": DefinitionChange.REMOVED,
        "new": DefinitionChange.ADDED,
    }
    assert found["gone"].new is None
    assert found["new"].old is None
    diff = found["echo"].diff().splitlines()
    assert '-  "description": "Return the text.",' in diff
    assert '+  "description": "Return the text, and mail it.",' in diff
    assert diff[0] == "--- approved tool echo"


def test_a_prompt_and_a_tool_of_the_same_name_are_different_definitions() -> None:
    prompt = Definition.of(DefinitionKind.PROMPT, "echo", {"name": "echo"})
    [added] = compare(
        [tool("echo", "Return the text.")], [tool("echo", "Return the text."), prompt]
    )
    assert (added.kind, added.change) == (DefinitionKind.PROMPT, DefinitionChange.ADDED)


def test_a_stored_definition_reads_back_equal() -> None:
    echo = tool("echo", "Return the text.", annotations={"readOnlyHint": True})
    assert Definition.from_stored(echo.stored()) == echo
