"""Deployment configuration against real Docker catalog schemas: types, defaults, secrets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mcp_console.backend.catalog.formats import ImportEntry, parse_document, read_catalog_path
from mcp_console.backend.deploy.config import (
    ResolvedConfig,
    masked_config,
    resolve_config,
    secret_fields,
)
from mcp_console.backend.security.secrets import MASK
from mcp_console.schemas.errors import Invalid

REPO = Path(__file__).resolve().parents[2]
DOCKER_SERVERS = REPO / ".." / "shared" / "data" / "catalogs" / "docker-mcp-registry" / "servers"
TOKEN = "ghp_Sup3rS3cretTokenValue"
# Filler for required fields of every catalog entry, by declared type.
FILLER = {"integer": "7", "number": "0.5", "boolean": "yes", "array": "a,b", "object": "{}"}


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict[str, Any]]:
    """The config schema of every Docker catalog entry, as the importer makes it."""
    found = {}
    for doc in read_catalog_path(DOCKER_SERVERS):
        for entry in parse_document(doc):
            if isinstance(entry, ImportEntry):
                found[entry.service.name] = entry.version.config_schema
    assert len(found) == 328
    return found


def _error(schema: dict[str, Any], values: dict[str, Any], secrets: dict[str, str]) -> Invalid:
    with pytest.raises(Invalid) as caught:
        resolve_config(schema, values, secrets)
    assert caught.value.field is not None
    assert caught.value.message.startswith(caught.value.field + ": ")
    return caught.value


def test_github_token_is_a_secret_and_only_reaches_the_secret_env(
    schemas: dict[str, dict[str, Any]],
) -> None:
    schema = schemas["github-official"]
    assert secret_fields(schema) == {"GITHUB_PERSONAL_ACCESS_TOKEN"}
    resolved = resolve_config(schema, {}, {"GITHUB_PERSONAL_ACCESS_TOKEN": TOKEN})
    assert resolved.secret_env == {"GITHUB_PERSONAL_ACCESS_TOKEN": TOKEN}
    assert resolved.secrets == {"GITHUB_PERSONAL_ACCESS_TOKEN": TOKEN}
    assert resolved.values == {}
    assert resolved.env == {}
    assert TOKEN not in repr(resolved)


def test_missing_empty_or_plain_token_is_refused_without_echoing_it(
    schemas: dict[str, dict[str, Any]],
) -> None:
    schema = schemas["github-official"]
    missing = _error(schema, {}, {})
    assert missing.message == "config.GITHUB_PERSONAL_ACCESS_TOKEN: required"
    assert missing.field == "config.GITHUB_PERSONAL_ACCESS_TOKEN"
    empty = _error(schema, {}, {"GITHUB_PERSONAL_ACCESS_TOKEN": ""})
    assert empty.message.endswith("required, but the value given is empty")
    plain = _error(schema, {"GITHUB_PERSONAL_ACCESS_TOKEN": TOKEN}, {})
    assert "is a secret; pass it with --secret GITHUB_PERSONAL_ACCESS_TOKEN=" in plain.message
    assert TOKEN not in plain.message


def test_unknown_key_lists_the_known_ones(schemas: dict[str, dict[str, Any]]) -> None:
    error = _error(schemas["github-official"], {"GITHUB_TOKEN": "x"}, {})
    assert error.field == "config.GITHUB_TOKEN"
    assert error.message.endswith("unknown key; known keys: GITHUB_PERSONAL_ACCESS_TOKEN (secret)")


def test_nested_parameters_take_dotted_keys_or_json(schemas: dict[str, dict[str, Any]]) -> None:
    schema = schemas["schemacrawler-ai"]  # config.parameters.volume stays an object
    secrets = {"SCHCRWLR_DATABASE_USER": "sa", "SCHCRWLR_DATABASE_PASSWORD": "pw-Secret-1"}
    dotted = resolve_config(schema, {"volume.host_share": "/srv/db"}, secrets)
    assert dotted.values["volume"] == {"host_share": "/srv/db"}
    assert dotted.env["VOLUME_HOST_SHARE"] == "/srv/db"
    as_json = resolve_config(schema, {"volume": '{"host_share": "/srv/db"}'}, secrets)
    assert as_json == dotted
    missing = _error(schema, {"volume": "{}"}, secrets)
    assert missing.message == "config.volume.host_share: required"
    unknown = _error(schema, {"volume.share": "/srv"}, secrets)
    assert unknown.field == "config.volume.share"
    assert "volume.host_share" in unknown.message
    scalar = _error(schema, {"SCHCRWLR_PORT.x": "1"}, secrets)
    assert "unknown key" in scalar.message


def test_text_is_coerced_to_declared_types(schemas: dict[str, dict[str, Any]]) -> None:
    secrets = {"SCHCRWLR_DATABASE_USER": "sa", "SCHCRWLR_DATABASE_PASSWORD": "pw-Secret-1"}
    crawler = resolve_config(schemas["schemacrawler-ai"], {"SCHCRWLR_PORT": " 5432 "}, secrets)
    assert crawler.values["SCHCRWLR_PORT"] == 5432
    assert crawler.env["SCHCRWLR_PORT"] == "5432"
    for text, expected in [("yes", True), ("No", False), ("1", True), ("0", False)]:
        fs = resolve_config(schemas["rust-mcp-filesystem"], {"ALLOW_WRITE": text}, {})
        assert fs.values["ALLOW_WRITE"] is expected
        assert fs.env["ALLOW_WRITE"] == ("true" if expected else "false")
    paths = resolve_config(schemas["filesystem"], {"paths": "/srv/a, /srv/b"}, {})
    assert paths.values["paths"] == ["/srv/a", "/srv/b"]
    assert resolve_config(schemas["filesystem"], {"paths": '["/srv/a,b"]'}, {}).values == {
        "paths": ["/srv/a,b"]
    }
    graphql_secrets = {
        "OPENAI_API_KEY": "sk-1",
        "GRAPHQL_ENDPOINT": "https://g",
        "GRAPHQL_API_KEY": "k",
    }
    graphql = resolve_config(
        schemas["text-to-graphql"], {"model_temperature": "0.7"}, graphql_secrets
    )
    assert graphql.values["model_temperature"] == 0.7
    # A declared key without x-env reaches the environment upper-cased.
    assert graphql.env["MODEL_TEMPERATURE"] == "0.7"
    assert graphql.env["MODEL_NAME"] == "gpt-4o"


def test_text_that_is_not_the_type_names_the_field(schemas: dict[str, dict[str, Any]]) -> None:
    secrets = {"SCHCRWLR_DATABASE_USER": "sa", "SCHCRWLR_DATABASE_PASSWORD": "pw-Secret-1"}
    port = _error(schemas["schemacrawler-ai"], {"SCHCRWLR_PORT": "abc"}, secrets)
    assert port.message == "config.SCHCRWLR_PORT: must be an integer, got 'abc'"
    flag = _error(schemas["rust-mcp-filesystem"], {"ALLOW_WRITE": "maybe"}, {})
    assert flag.message.startswith("config.ALLOW_WRITE: must be true or false")


def test_defaults_are_applied(schemas: dict[str, dict[str, Any]]) -> None:
    fs = resolve_config(schemas["rust-mcp-filesystem"], {}, {})
    assert fs.values == {
        "ENABLE_ROOTS": False,
        "ALLOW_WRITE": False,
        "allowed_directories": ["/Users/local-test"],
    }
    assert fs.env["ALLOW_WRITE"] == "false"
    # Fixed values of the catalog entry travel too, and cannot be changed.
    gmail = schemas["gmail-mcp"]
    mail = resolve_config(gmail, {"EMAIL_ADDRESS": "me@example.com"}, {"EMAIL_PASSWORD": "app-pw"})
    assert mail.env["IMAP_HOST"] == "imap.gmail.com"
    values = {"EMAIL_ADDRESS": "me@example.com", "IMAP_HOST": "imap.example.com"}
    fixed = _error(gmail, values, {"EMAIL_PASSWORD": "app-pw"})
    assert fixed.message == "config.IMAP_HOST: is fixed to imap.gmail.com and cannot be changed"


def test_enum_and_format_errors_read_like_sentences(schemas: dict[str, dict[str, Any]]) -> None:
    level = _error(schemas["unreal-engine-mcp-server"], {"LOG_LEVEL": "verbose"}, {})
    assert level.message == "config.LOG_LEVEL: must be one of debug, info, warn, error"
    gmail = schemas["gmail-mcp"]
    email = _error(gmail, {"EMAIL_ADDRESS": "nope"}, {"EMAIL_PASSWORD": "app-pw"})
    assert email.message == "config.EMAIL_ADDRESS: must be a valid email address, got 'nope'"


def test_the_first_failing_field_in_schema_order_is_named(
    schemas: dict[str, dict[str, Any]],
) -> None:
    # EMAIL_PASSWORD (missing) comes before EMAIL_ADDRESS (malformed) in the schema.
    error = _error(schemas["gmail-mcp"], {"EMAIL_ADDRESS": "nope"}, {})
    assert error.message == "config.EMAIL_PASSWORD: required"


def test_templates_are_rendered_into_the_environment(schemas: dict[str, dict[str, Any]]) -> None:
    okta = schemas["okta-mcp-server"]
    secrets = {"OKTA_PRIVATE_KEY": "pk-Secret"}
    assert resolve_config(okta, {}, secrets).env["OKTA_LOG_FILE"] == "/app/logs/okta.log"
    moved = resolve_config(okta, {"log_path": "/var/log/okta"}, secrets)
    assert moved.env["OKTA_LOG_FILE"] == "/var/log/okta/okta.log"


def test_an_empty_schema_takes_any_variable(schemas: dict[str, dict[str, Any]]) -> None:
    schema = schemas["time"]
    assert schema == {}
    resolved = resolve_config(schema, {"LOCAL_TIMEZONE": "Europe/Paris"}, {"API_TOKEN": TOKEN})
    assert resolved.env == {"LOCAL_TIMEZONE": "Europe/Paris"}
    assert resolved.secret_env == {"API_TOKEN": TOKEN}
    bad = _error(schema, {"local-timezone": "x"}, {})
    assert "not a valid environment variable name" in bad.message


def test_additional_properties_allow_unknown_keys() -> None:
    schema = {
        "type": "object",
        "properties": {"region": {"type": "string", "enum": ["eu", "us"]}},
        "additionalProperties": {"type": "integer"},
    }
    resolved = resolve_config(schema, {"region": "eu", "WORKERS": "4"}, {})
    assert resolved.values == {"region": "eu", "WORKERS": 4}
    assert resolved.env == {"REGION": "eu", "WORKERS": "4"}
    assert _error(schema, {"region": "asia"}, {}).message == (
        "config.region: must be one of eu, us"
    )


def test_error_messages_never_contain_a_secret_value() -> None:
    schema = {
        "type": "object",
        "properties": {
            "token": {"type": "string", "x-secret": True, "pattern": "^ghp_", "minLength": 30},
            "pin": {"type": "integer", "writeOnly": True, "maximum": 9999},
            "mode": {"type": "string", "enum": ["a", "b"]},
            "url": {"type": "string", "format": "uri"},
        },
    }
    cases: list[tuple[dict[str, Any], dict[str, str], str]] = [
        ({}, {"token": TOKEN}, TOKEN),
        ({}, {"token": "xyz-NotAToken-but-secret"}, "xyz-NotAToken-but-secret"),
        ({}, {"pin": "12a45"}, "12a45"),
        ({}, {"pin": "123456"}, "123456"),
        ({"token": TOKEN}, {}, TOKEN),
        ({"pin": "31337"}, {}, "31337"),
        # A plain field passed as a secret is treated as one.
        ({}, {"mode": "Zz-secret-mode"}, "Zz-secret-mode"),
        ({}, {"url": "secret url with spaces"}, "secret url with spaces"),
    ]
    for values, secrets, secret in cases:
        error = _error(schema, values, secrets)
        assert secret not in error.message, error.message
        assert secret not in str(error)


def test_stored_values_and_secrets_resolve_to_the_same_config(
    schemas: dict[str, dict[str, Any]],
) -> None:
    schema = schemas["schemacrawler-ai"]
    secrets = {"SCHCRWLR_DATABASE_USER": "sa", "SCHCRWLR_DATABASE_PASSWORD": "007"}
    first = resolve_config(schema, {"SCHCRWLR_PORT": "5432", "volume.host_share": "/d"}, secrets)
    # The deployment row keeps typed values; secrets come back from decryption as text.
    again = resolve_config(schema, first.values, first.secrets)
    assert again == first
    assert again.secret_env["SCHCRWLR_DATABASE_PASSWORD"] == "007"


def test_masked_config_shows_values_and_hides_secrets() -> None:
    values = {"region": "eu", "volume": {"host_share": "/d"}}
    shown = masked_config(values, ["api_key", "volume.password"])
    assert shown == {
        "region": "eu",
        "volume": {"host_share": "/d", "password": MASK},
        "api_key": MASK,
    }
    assert values == {"region": "eu", "volume": {"host_share": "/d"}}


def test_an_invalid_schema_is_reported_as_such() -> None:
    with pytest.raises(Invalid, match=r"schema is not valid at properties\.x\.type") as caught:
        resolve_config({"type": "object", "properties": {"x": {"type": "nope"}}}, {}, {})
    assert caught.value.field == "config_schema"


def test_every_docker_catalog_schema_resolves_with_its_examples(
    schemas: dict[str, dict[str, Any]],
) -> None:
    for name, schema in schemas.items():
        secret_names = secret_fields(schema)
        values: dict[str, Any] = {}
        secrets: dict[str, str] = {}
        for key, prop in _settable(schema):
            if key in secret_names:
                secrets[key] = f"S3CRET-{name}-{key}"
            else:
                examples = prop.get("examples") or [None]
                enum = prop.get("enum") or [None]
                value = enum[0] if enum[0] is not None else examples[0]
                values[key] = str(value) if value is not None else FILLER.get(prop["type"], "x")
        resolved: ResolvedConfig = resolve_config(schema, values, secrets)
        assert set(resolved.secret_env.values()) >= set(secrets.values()), name
        for secret in secrets.values():
            assert all(secret not in text for text in resolved.env.values()), name
            assert secret not in repr(resolved), name


def _settable(schema: dict[str, Any], prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = []
    for key, prop in (schema.get("properties") or {}).items():
        if prop.get("readOnly"):
            continue
        if prop.get("type") == "object" and prop.get("properties"):
            found += _settable(prop, f"{prefix}{key}.")
        else:
            found.append((f"{prefix}{key}", prop))
    return found
