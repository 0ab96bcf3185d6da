"""The config schema's marks: which properties are secret, and ``{name}`` templates."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_console.backend.catalog.formats.common import ConfigSchemaBuilder, render_arguments
from mcp_console.backend.deploy.config import resolve_config
from mcp_console.schemas.config_schema import (
    SECRET_MARKS,
    fill,
    has_placeholder,
    is_secret,
    placeholder,
    placeholders,
)


@pytest.mark.parametrize(
    "prop",
    [
        SECRET_MARKS,
        {"x-secret": True},
        {"x-secret": "yes"},
        {"x-secret": "True"},
        {"x-secret": 1},
        {"x-secret": "sensitive"},
        {"writeOnly": True},
        {"format": "password"},
        {"type": "string", "format": "Password"},
        {"x-secret": False, "writeOnly": True},
    ],
)
def test_a_property_marked_secret_in_any_known_way_is_secret(prop: dict[str, Any]) -> None:
    assert is_secret(prop)


@pytest.mark.parametrize(
    "prop",
    [
        {},
        {"type": "string"},
        {"x-secret": False},
        {"x-secret": "no"},
        {"x-secret": "false"},
        {"x-secret": 0},
        {"x-secret": None},
        {"writeOnly": False},
        {"format": "email"},
        {"readOnly": True, "const": "x"},
    ],
)
def test_a_property_not_marked_or_plainly_unmarked_is_not_secret(prop: dict[str, Any]) -> None:
    assert not is_secret(prop)


def test_placeholders_are_found_written_and_filled_alike() -> None:
    template = "Bearer {token} for {user}@{host}"
    assert placeholders(template) == ["token", "user", "host"]
    assert has_placeholder(template)
    assert not has_placeholder("{ not one }")
    assert placeholder("token") == "{token}"
    known = {"token": "t0k", "host": "example"}
    assert fill(template, known.get) == "Bearer t0k for {user}@example"


def test_a_catalog_template_is_filled_by_the_deployment_config() -> None:
    # The formats keep a value holding a placeholder as a template; deploy fills the same one.
    builder = ConfigSchemaBuilder()
    builder.add_header(
        {
            "name": "Authorization",
            "value": "Bearer {token}",
            "variables": {"token": {"isRequired": True, "isSecret": True}},
        }
    )
    builder.add_env(
        {"name": "API_URL", "value": "https://{region}.example", "variables": {"region": {}}}
    )
    schema = builder.build()
    assert schema["properties"]["API_URL"]["x-template"] == "https://{region}.example"

    resolved = resolve_config(schema, {"region": "eu"}, {"token": "t0k"})
    assert resolved.env["API_URL"] == "https://eu.example"
    assert "t0k" not in resolved.env.values()
    # A required argument with no value is the same placeholder, left for the user to fill.
    assert render_arguments([{"type": "positional", "valueHint": "dir", "isRequired": True}]) == [
        placeholder("dir")
    ]
