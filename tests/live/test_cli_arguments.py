"""``deploy call --arg KEY=VALUE``: each value typed as the tool's input schema declares it."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_console.cli.live import parse_arguments
from mcp_console.schemas.errors import Invalid

TOOL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "a": {"type": "integer"},
        "ratio": {"type": "number"},
        "loud": {"type": "boolean"},
        "items": {"type": "array", "items": {"type": "integer"}},
        "zip": {"type": "string"},
        "token": {"type": "string", "x-secret": True},
        "limit": {"type": "integer", "writeOnly": True},
    },
}


def test_values_take_the_types_the_tool_declares() -> None:
    parsed = parse_arguments(
        ["a=2", "ratio=-1.5", "loud=yes", "items=1,2", "zip=02134"], TOOL_SCHEMA, tool="add"
    )
    assert parsed == {"a": 2, "ratio": -1.5, "loud": True, "items": [1, 2], "zip": "02134"}
    # A number typed for a text argument stays the text typed, leading zero and all.
    assert parse_arguments(["zip=12345"], TOOL_SCHEMA) == {"zip": "12345"}


def test_undeclared_arguments_keep_their_text_and_may_hold_equals_signs() -> None:
    assert parse_arguments(["text=hello world", "expr=x=1", "n=3"]) == {
        "text": "hello world",
        "expr": "x=1",
        "n": "3",
    }


def test_a_value_that_is_not_its_type_is_refused_naming_the_argument() -> None:
    with pytest.raises(Invalid) as refused:
        parse_arguments(["a=two"], TOOL_SCHEMA, tool="add")
    assert refused.value.field == "a"
    assert refused.value.message == "argument 'a' of add: must be an integer, got 'two'"


def test_a_secret_arguments_value_is_never_repeated_in_the_error() -> None:
    with pytest.raises(Invalid) as refused:
        parse_arguments(["limit=hunter2"], TOOL_SCHEMA, tool="add")
    assert refused.value.field == "limit"
    assert "hunter2" not in refused.value.message


@pytest.mark.parametrize("item", ["novalue", "=3"])
def test_an_item_without_a_key_is_refused(item: str) -> None:
    with pytest.raises(Invalid) as refused:
        parse_arguments([item])
    assert refused.value.field == "arg"
