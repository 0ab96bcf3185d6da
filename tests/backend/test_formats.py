"""Catalog formats: reading the real catalogs, reporting bad input, exporting server.json."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from pydantic import ValidationError

from mcp_console.backend.catalog.formats import (
    ImportEntry,
    export_server_json,
    parse_document,
    read_catalog_path,
    validate_server_json,
)
from mcp_console.schemas.catalog import (
    CatalogDocument,
    CatalogFormat,
    ImportProblem,
    ServiceDetail,
    ServiceStatus,
    VersionCreate,
    VersionView,
)
from mcp_console.schemas.errors import Invalid
from mcp_console.starter import starter_documents

REPO = Path(__file__).resolve().parents[2]
CATALOGS = REPO / ".." / "shared" / "data" / "catalogs"
DOCKER_SERVERS = CATALOGS / "docker-mcp-registry" / "servers"
SEED = CATALOGS / "official-registry" / "seed-2025-05-16.json"
DATA = Path(__file__).resolve().parent / "data" / "formats"
SCHEMA = REPO / "mcp_console" / "backend" / "catalog" / "formats" / "data" / "server.schema.json"
NOW = datetime(2026, 1, 1, tzinfo=UTC)

Parsed = list[ImportEntry | ImportProblem]


def parse_path(path: Path) -> Parsed:
    return [result for doc in read_catalog_path(path) for result in parse_document(doc)]


def split(results: Parsed) -> tuple[list[ImportEntry], list[ImportProblem]]:
    entries = [r for r in results if isinstance(r, ImportEntry)]
    problems = [r for r in results if isinstance(r, ImportProblem)]
    return entries, problems


def by_name(entries: list[ImportEntry]) -> dict[str, ImportEntry]:
    return {e.service.name: e for e in entries}


def stored(entry: ImportEntry) -> tuple[ServiceDetail, VersionView]:
    """The DTOs CatalogService would hand back after storing the entry."""
    version = VersionView(
        id=1,
        is_latest=True,
        is_prerelease=False,
        published=True,
        created_at=NOW,
        **entry.version.model_dump(),
    )
    svc = entry.service
    detail = ServiceDetail(
        id=1,
        name=svc.name,
        display_name=svc.display_name or svc.name,
        description=svc.description,
        category=svc.category,
        tags=svc.tags,
        author="importer",
        price_model=svc.price_model,
        price_per_request=svc.price_per_request,
        status=entry.status,
        featured=svc.featured,
        downloads_count=0,
        rating_average=0.0,
        rating_count=0,
        latest_version=version.version,
        created_at=NOW,
        updated_at=NOW,
        repository_url=svc.repository_url,
        documentation_url=svc.documentation_url,
        icon_url=svc.icon_url,
        readme=svc.readme,
        deprecation_message=entry.status_message,
        versions=[version],
        rating_histogram={},
    )
    return detail, version


def schema_errors(document: dict[str, Any]) -> list[str]:
    """Violations of the vendored schema, checked independently of the code under test."""
    validator = Draft7Validator(json.loads(SCHEMA.read_text("utf-8")))
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


@pytest.fixture(scope="module")
def docker_results() -> Parsed:
    return parse_path(DOCKER_SERVERS)


@pytest.fixture(scope="module")
def seed_results() -> Parsed:
    return parse_path(SEED)


def test_every_docker_catalog_entry_parses(docker_results: Parsed) -> None:
    entries, problems = split(docker_results)
    assert problems == []
    assert len(entries) == len(list(DOCKER_SERVERS.glob("*/server.yaml"))) == 328
    # What the service stores must be plain JSON (YAML dates and the like are converted).
    json.dumps([e.version.model_dump() for e in entries])
    named = by_name(entries)
    sqlite = named["SQLite"]
    assert sqlite.version.docker_image == "mcp/sqlite"
    assert sqlite.version.version == "1.0.0"
    assert sqlite.version.command == ["--db-path", "/mcp/db.sqlite"]
    assert (sqlite.service.category, sqlite.service.tags) == ("database", ["sqlite", "database"])
    assert sqlite.service.repository_url == "https://github.com/modelcontextprotocol/servers"
    # A semver image tag becomes the version; a re-import maps to the same one.
    assert named["arm-mcp"].version.version == "2.4.0"


def test_docker_secrets_env_and_parameters_become_a_config_schema(docker_results: Parsed) -> None:
    named = by_name(split(docker_results)[0])
    airtable = named["airtable-mcp-server"].version.config_schema
    key = airtable["properties"]["AIRTABLE_API_KEY"]
    assert key["x-secret"] is True
    assert key["writeOnly"] is True
    assert key["x-env"] == "AIRTABLE_API_KEY"
    assert "AIRTABLE_API_KEY" in airtable["required"]
    aks = named["aks"].version
    assert aks.config_schema["properties"]["access_level"]["default"] == "readonly"
    assert set(aks.config_schema["required"]) == {"azure_dir", "kubeconfig", "access_level"}
    assert "--access-level={access_level}" in aks.command
    smartbear = named["smartbear"].version.config_schema
    assert "BUGSNAG_AUTH_TOKEN" not in smartbear.get("required", [])


def test_docker_tools_json_becomes_the_api_spec(docker_results: Parsed) -> None:
    named = by_name(split(docker_results)[0])
    tools = {t["name"]: t for t in named["arm-mcp"].version.api_spec["tools"]}
    scan = tools["migrate_ease_scan"]["inputSchema"]
    assert scan["type"] == "object"
    assert scan["properties"]["scanner"] == {
        "type": "string",
        "description": "One of cpp, python, go, js, java (case-insensitive)",
    }
    assert tools["mca"]["inputSchema"]["properties"]["extra_args"]["type"] == "array"
    with_tools = [e for e in named.values() if e.version.api_spec.get("tools")]
    assert len(with_tools) >= 28
    assert all(
        t["name"] and "inputSchema" in t for e in with_tools for t in e.version.api_spec["tools"]
    )


def test_docker_remote_entry_keeps_its_endpoint(docker_results: Parsed) -> None:
    apify = by_name(split(docker_results)[0])["apify"].version
    assert apify.transport == "streamable-http"
    assert apify.docker_image is None
    assert apify.packages == []
    assert apify.remotes[0]["url"] == "https://mcp.apify.com"
    header = apify.remotes[0]["headers"][0]
    assert header["value"] == "Bearer {APIFY_API_KEY}"
    assert header["isSecret"] is True


def test_every_seed_entry_parses(seed_results: Parsed) -> None:
    entries, problems = split(seed_results)
    raw = json.loads(SEED.read_text("utf-8"))
    assert len(raw) == 471
    blank = [i for i, e in enumerate(raw) if not e["name"]]
    assert len(entries) == 471 - len(blank) == 464
    assert [p.origin for p in problems] == [f"{SEED}[{i}]" for i in blank]
    assert all(p.reason.startswith("name: required") for p in problems)
    named = by_name(entries)
    assert len(named) == 464
    magic = named["io.github.21st-dev/magic-mcp"]
    assert magic.version.version == "0.0.1-seed"
    assert magic.service.display_name == "magic-mcp"
    package = magic.version.packages[0]
    assert (package.registry_type, package.identifier, package.version) == (
        "npm",
        "@21st-dev/magic",
        "0.0.46",
    )
    assert package.runtime_hint == "npx"
    assert magic.version.config_schema["properties"]["API_KEY"]["x-secret"] is True


def test_seed_arguments_render_as_argv(seed_results: Parsed) -> None:
    named = by_name(split(seed_results)[0])
    adfin_version = named["io.github.adfin-engineering/mcp-server-adfin"].version
    adfin = adfin_version.packages[0]
    # The seed's "<absolute_path_to_adfin_mcp_folder>" is an instruction: a setting to give.
    assert adfin.arguments == ["--directory", "{directory}", "main_adfin_mcp.py"]
    directory = adfin_version.config_schema["properties"]["directory"]
    assert directory["x-instruction"] == "<absolute_path_to_adfin_mcp_folder>"
    assert "directory" in adfin_version.config_schema["required"]
    dart = next(
        e
        for e in named.values()
        if e.version.packages[:1] and e.version.packages[0].identifier.startswith("dart-mcp-server")
    )
    assert dart.version.docker_image == "dart-mcp-server:0.1.13"
    assert dart.version.packages[0].registry_type == "oci"
    assert dart.version.packages[0].arguments[:4] == ["-i", "--rm", "-e", "DART_TOKEN"]


def test_malformed_json_names_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "dump.json"
    bad.write_text('{\n  "name": "io.github.acme/x",\n  "version": \n}\n')
    [problem] = parse_path(bad)
    assert isinstance(problem, ImportProblem)
    assert problem.origin == str(bad)
    assert "malformed JSON at line 4, column 1" in problem.reason


def test_malformed_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    entry = tmp_path / "servers" / "broken"
    entry.mkdir(parents=True)
    (entry / "server.yaml").write_text("name: broken\nimage: mcp/broken\nmeta:\n  tags: [a, b\n")
    [problem] = parse_path(tmp_path / "servers")
    assert isinstance(problem, ImportProblem)
    assert problem.origin == str(entry / "server.yaml")
    assert "malformed YAML at line 5" in problem.reason


def test_a_bad_entry_in_a_registry_list_names_its_json_path() -> None:
    entries, problems = split(parse_path(DATA / "registry-list.json"))
    assert [e.service.name for e in entries] == ["io.github.acme/notes", "io.github.acme/legacy"]
    assert problems == [
        ImportProblem(
            origin=f"{DATA / 'registry-list.json'}:servers[1]",
            entry="io.github.acme/broken",
            reason="packages[0].identifier: required",
        )
    ]
    legacy = entries[1]
    assert legacy.status == ServiceStatus.DEPRECATED
    assert legacy.status_message == "Use io.github.acme/notes instead"
    assert legacy.version.transport == "sse"
    assert entries[0].status == ServiceStatus.PUBLISHED


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda d: d.update(description="x" * 101), "description", "longer than 100"),
        (lambda d: d.update(name="weather"), "name", "does not match"),
        (
            lambda d: d["packages"][0].update(transport={"type": "ws"}),
            "packages[0].transport.type",
            "must be one of",
        ),
        (
            lambda d: d["packages"][0]["transport"].update(type="sse"),
            "packages[0].transport.url",
            "required",
        ),
        (lambda d: d["packages"][1].update(version="latest"), "packages[1].version", "not allowed"),
        (
            lambda d: d["remotes"][0]["headers"][0].pop("name"),
            "remotes[0].headers[0].name",
            "required",
        ),
    ],
)
def test_validate_server_json_names_the_json_path(change: Any, field: str, words: str) -> None:
    document = json.loads((DATA / "weather.server.json").read_text("utf-8"))
    validate_server_json(document)
    change(document)
    with pytest.raises(Invalid) as caught:
        validate_server_json(document)
    assert caught.value.field == field
    assert words in caught.value.message


def test_server_json_maps_to_the_dtos() -> None:
    [entry] = parse_path(DATA / "weather.server.json")
    assert isinstance(entry, ImportEntry)
    svc, ver = entry.service, entry.version
    assert (svc.name, svc.display_name, ver.version) == (
        "io.github.acme/weather",
        "Weather",
        "1.4.0",
    )
    assert svc.repository_url == "https://github.com/acme/weather-mcp"
    assert svc.documentation_url == "https://acme.example/weather"
    assert svc.icon_url == "https://acme.example/weather.png"
    assert (svc.category, svc.tags) == ("weather", ["forecast", "api"])
    assert ver.docker_image == "ghcr.io/acme/weather-mcp:1.4.0"
    assert ver.packages[0].arguments == ["--units", "metric", "{data_dir}"]
    assert ver.api_spec == {}
    props = ver.config_schema["properties"]
    assert props["ACME_API_KEY"] == {
        "type": "string",
        "description": "API key",
        "x-secret": True,
        "writeOnly": True,
        "x-env": "ACME_API_KEY",
    }
    assert props["ACME_TIMEOUT"]["type"] == "number"
    assert props["ACME_TIMEOUT"]["default"] == 30
    assert props["ACME_REGION"]["enum"] == ["eu", "us"]
    assert props["token"]["x-secret"] is True
    assert props["token"]["x-header"] == "Authorization"
    assert props["region"]["enum"] == ["eu", "us"]
    # The argument the user must supply is an input that fills its placeholder, not a variable.
    assert props["data_dir"] == {"type": "string", "x-argument": True}
    assert set(ver.config_schema["required"]) == {"ACME_API_KEY", "region", "token", "data_dir"}


def test_round_trip_keeps_name_version_packages_and_env() -> None:
    original = json.loads((DATA / "weather.server.json").read_text("utf-8"))
    [entry] = parse_document(CatalogDocument(origin="weather.json", text=json.dumps(original)))
    assert isinstance(entry, ImportEntry)
    exported = export_server_json(*stored(entry))
    assert schema_errors(exported) == []
    for key in ("name", "version", "title", "description", "packages", "remotes", "repository"):
        assert exported[key] == original[key], key
    assert (
        exported["packages"][0]["environmentVariables"]
        == original["packages"][0]["environmentVariables"]
    )
    [again] = parse_document(CatalogDocument(origin="again.json", text=json.dumps(exported)))
    assert again == ImportEntry("again.json", entry.service, entry.version, entry.status, None)


@pytest.mark.parametrize(
    ("source", "name"),
    [
        (DATA / "weather.server.json", "io.github.acme/weather"),
        (SEED, "io.github.adfin-engineering/mcp-server-adfin"),
        (DOCKER_SERVERS / "aks", "aks"),
        (DOCKER_SERVERS / "apify", "apify"),
    ],
)
def test_export_of_each_format_validates(source: Path, name: str) -> None:
    entry = by_name(split(parse_path(source))[0])[name]
    exported = export_server_json(*stored(entry))
    assert schema_errors(exported) == []
    assert exported["version"] == entry.version.version
    if exported["name"] != name:
        assert exported["name"] == f"io.mcp-console/{name}"
    [back] = parse_document(CatalogDocument(origin="x.json", text=json.dumps(exported)))
    assert isinstance(back, ImportEntry)
    assert back.service.name == name
    assert back.service.tags == entry.service.tags


def test_export_of_an_oci_image_follows_the_package_shape(docker_results: Parsed) -> None:
    entry = by_name(split(docker_results)[0])["arm-mcp"]
    [package] = export_server_json(*stored(entry))["packages"]
    assert package["registryType"] == "oci"
    assert package["identifier"] == "armlimited/arm-mcp:2.4.0"
    assert package["transport"] == {"type": "stdio"}
    assert "version" not in package


def test_every_imported_entry_exports_a_valid_server_json(
    docker_results: Parsed, seed_results: Parsed
) -> None:
    failures = []
    for entry in split(docker_results + seed_results)[0]:
        exported = export_server_json(*stored(entry))
        if len(exported["description"]) > 100 or schema_errors(exported):
            failures.append(entry.service.name)
    assert failures == []


def test_export_trims_long_descriptions_and_namespaces_bare_names() -> None:
    [entry] = parse_document(
        CatalogDocument(origin="w.json", text=(DATA / "weather.server.json").read_text())
    )
    assert isinstance(entry, ImportEntry)
    service, version = stored(entry)
    service = service.model_copy(update={"name": "weather", "description": "word " * 60})
    exported = export_server_json(service, version)
    assert exported["name"] == "io.mcp-console/weather"
    assert len(exported["description"]) <= 100
    assert exported["description"].endswith("…")


def test_export_without_original_packages_builds_them_from_fields() -> None:
    [entry] = parse_document(
        CatalogDocument(origin="w.json", text=(DATA / "weather.server.json").read_text())
    )
    assert isinstance(entry, ImportEntry)
    service, version = stored(entry)
    bare = [p.model_copy(update={}) for p in version.packages]
    for package in bare:
        assert package.model_extra is not None
        package.model_extra.clear()
    exported = export_server_json(service, version.model_copy(update={"packages": bare}))
    assert schema_errors(exported) == []
    pypi, oci = exported["packages"]
    assert (pypi["identifier"], pypi["version"]) == ("acme-weather-mcp", "1.4.0")
    env = {e["name"]: e for e in pypi["environmentVariables"]}
    assert env["ACME_API_KEY"]["isSecret"] is True
    assert env["ACME_API_KEY"]["isRequired"] is True
    assert oci["identifier"] == "ghcr.io/acme/weather-mcp:1.4.0"
    assert "version" not in oci


def test_system_packages_travel_in_our_meta_and_come_back() -> None:
    [git] = [d for d in starter_documents() if d.origin.endswith("git.json")]
    [entry] = parse_document(git)
    assert isinstance(entry, ImportEntry)
    assert entry.version.system_packages == ["git"]
    exported = export_server_json(*stored(entry))
    assert schema_errors(exported) == []
    assert exported["_meta"]["io.mcp-console/catalog"]["systemPackages"] == ["git"]
    [back] = parse_document(CatalogDocument(origin="again.json", text=json.dumps(exported)))
    assert isinstance(back, ImportEntry)
    assert back.version == entry.version
    # A version that needs none says nothing about them.
    service, version = stored(entry)
    bare = export_server_json(service, version.model_copy(update={"system_packages": []}))
    assert "systemPackages" not in bare["_meta"]["io.mcp-console/catalog"]


@pytest.mark.parametrize(
    ("packages", "path", "words"),
    [
        (["git", "Git Tools"], "systemPackages[1]", "'Git Tools' is not a Debian package name"),
        (["git=1:2.39"], "systemPackages[0]", "'git=1:2.39' is not a Debian package name"),
        (["-oAPT::x"], "systemPackages[0]", "is not a Debian package name"),
        ("git", "systemPackages", "must be a list of strings"),
    ],
)
def test_a_bad_system_package_is_named_by_its_path(packages: Any, path: str, words: str) -> None:
    document = json.loads((DATA / "weather.server.json").read_text("utf-8"))
    document["_meta"] = {"io.mcp-console/catalog": {"systemPackages": packages}}
    [problem] = parse_document(CatalogDocument(origin="w.json", text=json.dumps(document)))
    assert isinstance(problem, ImportProblem)
    assert problem.reason.startswith(f'_meta["io.mcp-console/catalog"].{path}: ')
    assert words in problem.reason


def test_a_version_refuses_what_is_no_debian_package_name() -> None:
    assert VersionCreate(version="1.0.0", system_packages=["git", "libstdc++6", "git"]) == (
        VersionCreate(version="1.0.0", system_packages=["git", "libstdc++6"])
    )
    for bad in ("Git", "g", "git*", "../etc/passwd", "git/bookworm", ""):
        with pytest.raises(ValidationError) as caught:
            VersionCreate(version="1.0.0", system_packages=["curl", bad])
        assert caught.value.errors()[0]["loc"] == ("system_packages",)
        assert f"{bad!r} is not a Debian package name" in str(caught.value)


def test_docker_entry_problems_name_the_field(tmp_path: Path) -> None:
    no_image = tmp_path / "noimage"
    no_image.mkdir()
    (no_image / "server.yaml").write_text("name: noimage\ntype: server\nabout:\n  title: X\n")
    bad_tools = tmp_path / "badtools"
    bad_tools.mkdir()
    (bad_tools / "server.yaml").write_text("name: badtools\nimage: mcp/badtools\n")
    (bad_tools / "tools.json").write_text('[{"name": "a"},\n {"name": ]')
    good = tmp_path / "good"
    good.mkdir()
    (good / "server.yaml").write_text("name: good\nimage: mcp/good:v2.1.0\ntype: server\n")
    (good / "tools.json").write_text('[{"name": "ping", "description": "Ping", "arguments": []}]')
    results = parse_path(tmp_path)
    reasons = {r.entry: r.reason for r in results if isinstance(r, ImportProblem)}
    assert reasons == {
        "badtools": "tools.json: malformed JSON at line 2, column 11: Expecting value",
        "noimage": 'image: required for an entry of type "server"',
    }
    [good_entry] = split(results)[0]
    assert good_entry.version.version == "2.1.0"
    assert good_entry.version.api_spec == {
        "tools": [
            {
                "name": "ping",
                "description": "Ping",
                "inputSchema": {"type": "object", "properties": {}},
            }
        ]
    }


def test_read_catalog_path_walks_a_tree_deterministically(tmp_path: Path) -> None:
    for name in ("beta", "alpha"):
        (tmp_path / "servers" / name).mkdir(parents=True)
        (tmp_path / "servers" / name / "server.yaml").write_text(
            f"name: {name}\nimage: mcp/{name}\n"
        )
    (tmp_path / "servers" / "alpha" / "tools.json").write_text("[]")
    (tmp_path / "servers" / "alpha" / "readme.md").write_text("# A\n")
    (tmp_path / "dump.json").write_text("{}")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.json").write_text("{}")
    docs = read_catalog_path(tmp_path)
    assert [Path(d.origin).relative_to(tmp_path).as_posix() for d in docs] == [
        "dump.json",
        "servers/alpha/server.yaml",
        "servers/beta/server.yaml",
    ]
    assert docs[1].extra_files == {"tools.json": "[]", "readme.md": "# A\n"}
    [entry] = parse_document(docs[1])
    assert isinstance(entry, ImportEntry)
    assert entry.service.readme == "# A\n"


def test_explicit_format_overrides_detection() -> None:
    text = (DATA / "weather.server.json").read_text("utf-8")
    [problem] = parse_document(
        CatalogDocument(origin="w.json", text=text, format=CatalogFormat.REGISTRY_SEED)
    )
    assert isinstance(problem, ImportProblem)
    assert problem.reason == "version_detail.version: required"


def test_parse_is_deterministic(docker_results: Parsed, seed_results: Parsed) -> None:
    again = parse_path(DOCKER_SERVERS) + parse_path(SEED)
    assert again == docker_results + seed_results
    mutated = json.loads((DATA / "registry-list.json").read_text("utf-8"))
    first = parse_document(CatalogDocument(origin="l.json", text=json.dumps(mutated)))
    assert (
        parse_document(CatalogDocument(origin="l.json", text=json.dumps(copy.deepcopy(mutated))))
        == first
    )
