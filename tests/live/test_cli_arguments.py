"""``deploy call --arg KEY=VALUE``: JSON values are typed, anything else is text."""

from __future__ import annotations

import pytest

from mcp_console.cli.live import parse_arguments
from mcp_console.schemas.errors import Invalid


def test_values_that_are_json_keep_their_type() -> None:
    parsed = parse_arguments(["a=2", "b=-1.5", "flag=true", "items=[1, 2]", 'code="007"'])
    assert parsed == {"a": 2, "b": -1.5, "flag": True, "items": [1, 2], "code": "007"}


def test_other_values_are_text_and_may_hold_equals_signs() -> None:
    assert parse_arguments(["text=hello world", "expr=x=1"]) == {
        "text": "hello world",
        "expr": "x=1",
    }


@pytest.mark.parametrize("item", ["novalue", "=3"])
def test_an_item_without_a_key_is_refused(item: str) -> None:
    with pytest.raises(Invalid) as refused:
        parse_arguments([item])
    assert refused.value.field == "arg"
