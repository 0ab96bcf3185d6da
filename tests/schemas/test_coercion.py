"""One rule types what a person typed: deploy config, the console's tool form, ``deploy call``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from mcp_console.backend.catalog.formats.common import input_property
from mcp_console.backend.deploy.config import resolve_config
from mcp_console.cli.live import parse_arguments
from mcp_console.schemas.coercion import coerce, coerce_or_explain
from mcp_console.schemas.errors import Invalid
from mcp_console.widgets.config_form import ConfigField
from mcp_console.widgets.tool_form import typed

Prop = dict[str, Any]

# (what the property declares, what was typed, the value it becomes)
TYPED: list[tuple[Prop, str, Any]] = [
    ({"type": "integer"}, "42", 42),
    ({"type": "integer"}, " -7 ", -7),
    ({"type": "number"}, "2.5", 2.5),
    ({"type": "number"}, "3", 3),
    ({"type": "boolean"}, "yes", True),
    ({"type": "boolean"}, "0", False),
    ({"type": "array", "items": {"type": "integer"}}, "1, 2", [1, 2]),
    ({"type": "array"}, '["a", 1]', ["a", 1]),
    ({"type": "object"}, '{"a": 1}', {"a": 1}),
    ({"type": ["integer", "null"]}, "null", None),
    ({"type": "string"}, "007", "007"),
    ({"type": ["string", "integer"]}, "12", "12"),
    ({}, "12", "12"),
    ({"enum": [1, 2]}, "2", 2),
]
# (what the property declares, what was typed, what the person is told)
REFUSED: list[tuple[Prop, str, str]] = [
    ({"type": "integer"}, "two", "must be an integer, got 'two'"),
    ({"type": "integer"}, "1.5", "must be an integer, got '1.5'"),
    ({"type": "number"}, "nan", "must be a number, got 'nan'"),
    ({"type": "boolean"}, "maybe", "must be true or false (or yes/no, 1/0), got 'maybe'"),
    ({"type": "object"}, "[1]", "must be a JSON object, got '[1]'"),
    ({"type": ["integer", "null"]}, "x", "must be an integer or null, got 'x'"),
]


def _config(prop: Mapping[str, Any], text: str) -> Any:
    schema = {"type": "object", "properties": {"v": dict(prop)}}
    return resolve_config(schema, {"v": text}, {}).values.get("v")


def _tool_form(prop: Mapping[str, Any], text: str) -> Any:
    return typed(ConfigField("v", prop, False, 0), text)


def _cli(prop: Mapping[str, Any], text: str) -> Any:
    return parse_arguments([f"v={text}"], {"properties": {"v": dict(prop)}})["v"]


SIDES: dict[str, Callable[[Mapping[str, Any], str], Any]] = {
    "deploy config": _config,
    "tool form": _tool_form,
    "deploy call --arg": _cli,
}


@pytest.mark.parametrize(("prop", "text", "value"), TYPED)
def test_every_side_types_text_the_same_way(prop: Prop, text: str, value: Any) -> None:
    assert coerce(text, prop) == value
    got = {side: convert(prop, text) for side, convert in SIDES.items()}
    assert got == dict.fromkeys(SIDES, value)
    assert all(type(v) is type(value) for v in got.values()), got


@pytest.mark.parametrize(("prop", "text", "message"), REFUSED)
def test_every_side_refuses_with_the_same_reason(prop: Prop, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"^must be ") as rule:
        coerce_or_explain(text, prop)
    assert str(rule.value) == message
    with pytest.raises(Invalid) as config:
        _config(prop, text)
    assert (config.value.message, config.value.field) == (f"config.v: {message}", "config.v")
    with pytest.raises(ValueError, match=r"^must be ") as form:
        _tool_form(prop, text)
    assert str(form.value) == message
    with pytest.raises(Invalid) as cli:
        _cli(prop, text)
    assert (cli.value.message, cli.value.field) == (f"argument 'v' of the tool: {message}", "v")


def test_a_secrets_text_is_never_repeated_by_any_side() -> None:
    prop = {"type": "integer", "x-secret": True}
    schema = {"type": "object", "properties": {"pin": prop}}
    with pytest.raises(Invalid) as config:
        resolve_config(schema, {}, {"pin": "hunter2"})
    with pytest.raises(ValueError, match=r"^must be an integer") as form:
        typed(ConfigField("pin", prop, False, 0), "hunter2")
    with pytest.raises(Invalid) as cli:
        parse_arguments(["pin=hunter2"], schema)
    for message in (config.value.message, str(form.value), cli.value.message):
        assert "must be an integer" in message
        assert "hunter2" not in message


def test_catalog_inputs_spelled_as_text_are_stored_as_their_type() -> None:
    number, _ = input_property({"format": "number", "default": "30", "choices": ["1", "2.5"]})
    assert (number["default"], number["enum"]) == (30, [1, 2.5])
    flag, _ = input_property({"format": "boolean", "value": "true"})
    assert (flag["const"], flag["default"]) == (True, True)
    # A choice that is not its type stays as written; validation then names it.
    odd, _ = input_property({"format": "number", "choices": ["1", "auto"]})
    assert odd["enum"] == [1, "auto"]
