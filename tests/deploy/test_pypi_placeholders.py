"""Catalog values that are instructions (``<port number>``, ``YOUR_..._HERE``) become settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mcp_console.backend.catalog.formats.registry_seed import entry_from_seed
from mcp_console.backend.catalog.formats.server_json import entry_from_server
from mcp_console.backend.deploy.config import resolve_config
from mcp_console.schemas.config_schema import not_a_value
from mcp_console.schemas.errors import Invalid

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / ".." / "shared" / "data" / "catalogs" / "official-registry" / "seed-2025-05-16.json"


def _seed_entry(name: str) -> dict[str, Any]:
    entries: list[dict[str, Any]] = json.loads(SEED.read_text())
    return next(e for e in entries if e["name"] == name)


@pytest.mark.parametrize(
    "text",
    [
        "<port number ex. 5672>",
        "/<ABSOLUTE-PATH-TO>/ramp-mcp",
        "YOUR_API_KEY_HERE",
        "your-domain.fibery.io",
        "https://connection.YOUR_REGION.keboola.com",
        "/path/to/your/local/mcp-server-motherduck",
        "path/to/cloned/fibery-mcp-server",
        "ABSOLUTE/PATH/TO/YOUR-UNS-MCP-REPO/uns_mcp",
        "$REPOSITORY_DIRECTORY",
        "xxx",
        "C:/MCP/server/community/chroma",
        "/Users/lyx/Downloads/dify-mcp-server",
    ],
)
def test_instructions_are_not_values(text: str) -> None:
    assert not_a_value(text) is not None


@pytest.mark.parametrize(
    "text",
    ["md:", "--db-path", "stdio", "main.py", "{port}", "3.13", "https://api.aiven.io", "$5", "-s"],
)
def test_values_are_values(text: str) -> None:
    assert not_a_value(text) is None


def test_seed_placeholders_become_required_arguments_named_in_the_error() -> None:
    entry = entry_from_seed(_seed_entry("io.github.kenliao94/mcp-server-rabbitmq"), "seed")
    package = entry.version.packages[0]
    schema = entry.version.config_schema
    # Never passed: each instruction is a {setting} of its own. The seed wrote uv's command
    # line first (uv --directory <checkout> run mcp-server-rabbitmq ...): that part is gone.
    assert not any(not_a_value(arg) for arg in package.arguments)
    assert package.arguments[:2] == ["--rabbitmq-host", "{rabbitmq_host}"]
    # "--port" cannot take the driver's own {port}: its description names it instead.
    assert package.arguments[2:4] == ["--port", "{rabbitmq_port_number}"]
    port = schema["properties"]["rabbitmq_port_number"]
    assert port["x-instruction"] == "<port number ex. 5672>"
    assert port["examples"] == ["<port number ex. 5672>"]  # the form's hint
    assert "default" not in port
    assert {"rabbitmq_host", "rabbitmq_port_number", "password"} <= set(schema["required"])
    assert "directory" not in schema["properties"]

    with pytest.raises(Invalid) as caught:
        resolve_config(schema, {"rabbitmq_host": "mq.local"}, {})
    assert caught.value.field == "config.rabbitmq_port_number"
    assert caught.value.message == (
        "config.rabbitmq_port_number: required: the catalog's value "
        "'<port number ex. 5672>' is an instruction, not a value"
    )


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        # uv --directory <checkout> run <package> <its arguments>
        (
            "io.github.motherduckdb/mcp-server-motherduck",
            ["--db-path", "md:", "--motherduck-token"],
        ),
        # uv --directory <checkout> run -m <its module> <its arguments>
        ("io.github.inkeep/mcp-server-python", []),
        # uv run --with <package> --python 3.13 <package>
        ("io.github.clickhouse/mcp-clickhouse", []),
        # python -m <its module> <its arguments>
        ("io.github.keboola/keboola-mcp-server", ["--transport", "stdio", "--api-url"]),
    ],
)
def test_the_seeds_uv_command_line_is_not_passed_to_the_server(
    name: str, arguments: list[str]
) -> None:
    package = entry_from_seed(_seed_entry(name), "seed").version.packages[0]
    assert [a for a in package.arguments if not a.startswith("{")] == arguments


def test_a_script_of_a_source_checkout_is_kept_as_written() -> None:
    # uv --directory <checkout> run main_adfin_mcp.py: not the package's own program, so
    # nothing is taken away (the checkout's path is a setting; the script is not ours).
    entry = entry_from_seed(_seed_entry("io.github.adfin-engineering/mcp-server-adfin"), "seed")
    assert entry.version.packages[0].arguments == [
        "--directory",
        "{directory}",
        "main_adfin_mcp.py",
    ]


def test_server_json_environment_placeholder_is_never_a_default() -> None:
    server = {
        "name": "io.github.acme/notes",
        "description": "Notes",
        "version": "1.0.0",
        "packages": [
            {
                "registryType": "pypi",
                "identifier": "acme-notes",
                "version": "1.0.0",
                "transport": {"type": "stdio"},
                "environmentVariables": [
                    {"name": "NOTES_TOKEN", "value": "YOUR_TOKEN_HERE"},
                    {"name": "NOTES_DIR", "default": "/path/to/your/notes"},
                    {"name": "NOTES_LANG", "default": "en"},
                ],
            }
        ],
    }
    schema = entry_from_server(server, "test").version.config_schema
    props = schema["properties"]
    token, folder, lang = props["NOTES_TOKEN"], props["NOTES_DIR"], props["NOTES_LANG"]
    assert "const" not in token
    assert "default" not in token
    assert token["x-secret"] is True
    assert "default" not in folder
    assert lang["default"] == "en"
    assert schema["required"] == ["NOTES_TOKEN", "NOTES_DIR"]

    resolved = resolve_config(schema, {"NOTES_DIR": "/srv/notes"}, {"NOTES_TOKEN": "t0ken-value"})
    assert resolved.env == {"NOTES_DIR": "/srv/notes", "NOTES_LANG": "en"}
    with pytest.raises(Invalid) as caught:
        resolve_config(schema, {}, {"NOTES_TOKEN": "t0ken-value"})
    assert "'/path/to/your/notes' is an instruction" in caught.value.message
