"""Where a remote deployment sends its traffic: catalog remotes (server.json, Docker's
catalog) filled from the configuration, or URLs and headers given by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mcp_console.backend.catalog.formats.docker_catalog import entry_from_docker
from mcp_console.backend.catalog.formats.server_json import config_schema_for
from mcp_console.backend.deploy.remote import endpoints, upstream_secrets
from mcp_console.backend.security.secrets import MASK
from mcp_console.schemas.errors import Invalid

REPO = Path(__file__).resolve().parents[2]
DOCKER_SERVERS = REPO / ".." / "shared" / "data" / "catalogs" / "docker-mcp-registry" / "servers"
KEY = "k-3f9a1c77e2"


def docker_remote(name: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The remotes and configuration schema of one entry of Docker's catalog."""
    raw = yaml.safe_load((DOCKER_SERVERS / name / "server.yaml").read_text())
    version = entry_from_docker(raw, name, {}).version
    return version.remotes, version.config_schema


def test_a_docker_catalog_remote_sends_its_bearer_template_filled_from_a_secret() -> None:
    remotes, schema = docker_remote("apify")

    [endpoint] = endpoints("apify", "1", remotes, schema, {}, {"APIFY_API_KEY": KEY})
    with pytest.raises(Invalid) as missing:
        endpoints("apify", "1", remotes, schema, {}, {})

    assert endpoint.url == "https://mcp.apify.com"
    assert dict(endpoint.headers) == {"Authorization": f"Bearer {KEY}"}
    assert missing.value.field == "config.APIFY_API_KEY"
    assert KEY not in repr(endpoint)


def test_an_optional_header_left_out_is_not_sent() -> None:
    remotes, schema = docker_remote("context7")

    [endpoint] = endpoints("context7", "1", remotes, schema, {}, {})

    assert (endpoint.url, dict(endpoint.headers)) == ("https://mcp.context7.com/mcp", {})


def test_url_variables_come_from_the_configuration_and_a_secret_one_is_never_shown() -> None:
    server = {
        "remotes": [
            {
                "type": "streamable-http",
                "url": "https://{region}.example.com/{token}/mcp",
                "variables": {
                    "region": {"isRequired": True, "choices": ["eu", "us"]},
                    "token": {"isRequired": True, "isSecret": True},
                },
            }
        ]
    }
    schema = config_schema_for(server)

    [endpoint] = endpoints("x", "1", server["remotes"], schema, {"region": "eu"}, {"token": KEY})

    assert endpoint.url == f"https://eu.example.com/{KEY}/mcp"
    assert endpoint.shown == f"https://eu.example.com/{MASK}/mcp"


def test_urls_given_by_hand_replace_the_catalogs_and_keep_its_declared_headers() -> None:
    remotes, schema = docker_remote("apify")
    given = upstream_secrets(
        ["https://apify.internal.example/mcp?tenant=7", "https://apify2.internal.example/mcp"],
        {"X-Trace": "on"},
    )

    found = endpoints("apify", "1", remotes, schema, {}, {"APIFY_API_KEY": KEY, **given})

    assert [e.url for e in found] == [
        "https://apify.internal.example/mcp?tenant=7",
        "https://apify2.internal.example/mcp",
    ]
    assert [e.shown for e in found] == [
        "https://apify.internal.example/mcp?…",
        "https://apify2.internal.example/mcp",
    ]
    assert all(
        dict(e.headers) == {"Authorization": f"Bearer {KEY}", "X-Trace": "on"} for e in found
    )
    assert sorted(given) == ["header:X-Trace", "url:1", "url:2"]


def test_a_credential_is_never_sent_in_clear_text_to_another_machine() -> None:
    remotes = [{"type": "streamable-http", "url": "http://mcp.example.com/mcp"}]
    loopback = upstream_secrets(["http://127.0.0.1:9000/mcp"], {"Authorization": KEY})

    with pytest.raises(Invalid) as refused:
        endpoints("x", "1", remotes, {}, {}, {"header:Authorization": KEY})
    [local] = endpoints("x", "1", remotes, {}, {}, loopback)
    [anonymous] = endpoints("x", "1", remotes, {}, {}, {})

    assert "clear text" in refused.value.message
    assert KEY not in refused.value.message
    assert local.url == "http://127.0.0.1:9000/mcp"
    assert anonymous.url == "http://mcp.example.com/mcp"
