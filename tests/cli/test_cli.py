"""The ``mcp-console`` command line, run as a user runs it: a real process on a real database."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mcp_console.backend.catalog.formats import validate_server_json

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
DOCKER_CATALOG = SHARED / "data" / "catalogs" / "docker-mcp-registry" / "servers"
REGISTRY_SEED = SHARED / "data" / "catalogs" / "official-registry" / "seed-2025-05-16.json"


class Cli:
    """Runs ``mcp-console`` in a subprocess against one data dir."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def __call__(
        self, *args: str, ok: bool = True, api_key: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "MCP_CONSOLE_DATA_DIR": str(self.data_dir)}
        env.pop("MCP_CONSOLE_DATABASE_URL", None)
        env.pop("MCP_CONSOLE_API_KEY", None)
        if api_key:
            env["MCP_CONSOLE_API_KEY"] = api_key
        result = subprocess.run(
            [sys.executable, "-m", "mcp_console", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if ok:
            assert result.returncode == 0, result.stderr
        else:
            assert result.returncode == 1, (result.stdout, result.stderr)
            assert result.stderr.startswith("error: ")
        return result

    def json(self, *args: str, api_key: str | None = None) -> object:
        return json.loads(self(*args, "--json", api_key=api_key).stdout)


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """A console with both shared catalogs imported once."""
    assert DOCKER_CATALOG.is_dir(), f"the shared catalogs are missing at {SHARED}"
    cli = Cli(tmp_path_factory.mktemp("market"))
    for source in (DOCKER_CATALOG, REGISTRY_SEED):
        report = cli.json("catalog", "import", str(source))
        assert isinstance(report, dict)
        assert len(report["created"]) > 0
    return cli


def test_import_is_complete_and_idempotent(market: Cli) -> None:
    for source, minimum in ((DOCKER_CATALOG, 300), (REGISTRY_SEED, 400)):
        report = market.json("catalog", "import", str(source))
        assert isinstance(report, dict)
        assert report["created"] == []
        assert report["updated"] == []
        assert len(report["unchanged"]) >= minimum
    page = market.json("catalog", "search", "", "--page-size", "1")
    assert isinstance(page, dict)
    assert page["total"] >= 700


def test_search_github_ranks_github_servers_first(market: Cli) -> None:
    page = market.json("catalog", "search", "github", "--page-size", "10")
    assert isinstance(page, dict)
    names = [item["name"] for item in page["items"]]
    assert names, "no result for github"
    assert all("github" in n.lower() for n in names[:3]), names
    human = market("catalog", "search", "github").stdout
    assert "github-official" in human


def test_search_by_tag_sorted_by_name(market: Cli) -> None:
    page = market.json("catalog", "search", "tag:database sort:name", "--page-size", "50")
    assert isinstance(page, dict)
    items = page["items"]
    assert len(items) >= 5
    assert all("database" in item["tags"] for item in items)
    names = [item["name"].lower() for item in items]
    assert names == sorted(names)


def test_unknown_filter_key_lists_the_valid_ones(market: Cli) -> None:
    result = market("catalog", "search", "colour:red", ok=False)
    assert "colour" in result.stderr
    for key in ("category", "tag", "price", "status", "author", "featured", "sort"):
        assert key in result.stderr


def test_show_categories_and_export(market: Cli, tmp_path: Path) -> None:
    detail = market.json("catalog", "show", "github-official")
    assert isinstance(detail, dict)
    assert detail["category"] == "devops"
    categories = market.json("catalog", "categories")
    assert isinstance(categories, list)
    assert {"name": "devops", "count": categories[0]["count"]} in categories or any(
        c["name"] == "devops" and c["count"] > 0 for c in categories
    )
    out = tmp_path / "server.json"
    market("catalog", "export", "github-official", "--output", str(out))
    document = json.loads(out.read_text())
    validate_server_json(document)
    assert document["version"] == detail["latest_version"]
    missing = market("catalog", "export", "github-official@9.9.9", ok=False)
    assert "9.9.9" in missing.stderr


def test_show_unknown_service(market: Cli) -> None:
    result = market("catalog", "show", "no-such-service", ok=False)
    assert "no-such-service" in result.stderr


def test_reviews_from_the_command_line(market: Cli) -> None:
    market("review", "add", "github-official", "--rating", "4", "--comment", "solid")
    market("review", "add", "github-official", "--rating", "5")
    reviews = market.json("review", "list", "github-official")
    assert isinstance(reviews, list)
    assert [(r["user"], r["rating"]) for r in reviews] == [("admin", 5)]
    for rating in ("0", "6"):
        result = market("review", "add", "github-official", "--rating", rating, ok=False)
        assert "rating" in result.stderr
    assert len(market.json("review", "list", "github-official")) == 1  # type: ignore[arg-type]


def test_users_keys_and_permissions(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    created = cli.json("user", "create", "carol", "--role", "author")
    assert isinstance(created, dict)
    key = created["api_key"]
    assert key.startswith("mcpc_")
    database = (tmp_path / "mcp-console.db").read_bytes()
    assert key.encode() not in database  # only the digest is stored
    with sqlite3.connect(tmp_path / "mcp-console.db") as conn:
        stored = [row[0] for row in conn.execute("SELECT key_hash FROM api_keys")]
    assert len(stored) == 2
    assert all(len(h) == 64 for h in stored)

    server = tmp_path / "server.json"
    server.write_text(json.dumps(SERVER_JSON))
    published = cli.json("catalog", "publish", str(server))
    assert isinstance(published, dict)
    assert published["status"] == "PUBLISHED"
    assert published["author"] == "admin"
    refused = cli("catalog", "deprecate", SERVER_NAME, "-m", "mine now", ok=False, api_key=key)
    assert "only the author" in refused.stderr
    assert cli.json("catalog", "show", SERVER_NAME)["status"] == "PUBLISHED"  # type: ignore[index]
    bad_key = cli("catalog", "search", "x", ok=False, api_key="mcpc_wrong")
    assert "API key" in bad_key.stderr
    duplicate = cli("user", "create", "carol", ok=False)
    assert "carol" in duplicate.stderr


def test_publish_reports_malformed_and_invalid_documents(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    broken = tmp_path / "broken.json"
    broken.write_text('{"name": "io.example/x",')
    assert "broken.json" in cli("catalog", "publish", str(broken), ok=False).stderr
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({**SERVER_JSON, "packages": [{"registryType": "pypi"}]}))
    result = cli("catalog", "publish", str(invalid), ok=False)
    assert "packages[0]" in result.stderr
    bad_version = tmp_path / "range.json"
    bad_version.write_text(json.dumps({**SERVER_JSON, "version": "^1.0.0"}))
    assert "range" in cli("catalog", "publish", str(bad_version), ok=False).stderr
    page = cli.json("catalog", "search", "status:draft")
    assert isinstance(page, dict)
    assert page["total"] == 0  # nothing half-written


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    assert "head" in cli("db", "upgrade").stdout
    with sqlite3.connect(tmp_path / "mcp-console.db") as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"mcp_services", "service_versions", "service_reviews", "users"} <= tables


SERVER_NAME = "io.example/weather"
SERVER_JSON: dict[str, object] = {
    "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
    "name": SERVER_NAME,
    "title": "Weather",
    "description": "Forecasts for anywhere",
    "version": "1.4.0",
    "repository": {"url": "https://github.com/example/weather-mcp", "source": "github"},
    "packages": [
        {
            "registryType": "pypi",
            "identifier": "weather-mcp",
            "version": "1.4.0",
            "transport": {"type": "stdio"},
            "environmentVariables": [
                {"name": "WEATHER_KEY", "isRequired": True, "isSecret": True},
            ],
        }
    ],
}
