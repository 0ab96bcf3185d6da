"""Catalog import: entries of new and known services, each landing whole or not at all."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import CatalogDocument, ServiceStatus
from mcp_console.schemas.errors import Forbidden
from mcp_console.schemas.users import Role
from tests.backend.factories import make_user
from tests.contract.documents import server_json

OFFICIAL = "io.modelcontextprotocol.registry/official"


def document(origin: str, name: str, version: str, **changes: Any) -> CatalogDocument:
    """A server.json for ``name@version``; ``changes`` replace top-level keys (None drops)."""
    body = json.loads(server_json(name, version))
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return CatalogDocument(origin=origin, text=json.dumps(body))


async def test_a_new_service_imports_several_versions_and_flags_the_highest_latest(
    runtime: Runtime,
) -> None:
    alice = await make_user(runtime, "alice", Role.AUTHOR)
    name = "io.github.acme/notes"
    report = await runtime.catalog.import_documents(
        alice,
        [
            document("a.json", name, "1.2.0"),
            document("b.json", name, "2.0.0-rc.1"),
            document("c.json", name, "1.10.0", description="Notes, searchable"),
        ],
    )
    assert report.problems == []
    assert report.created == [f"{name}@1.2.0"]
    assert sorted(report.updated) == [f"{name}@1.10.0", f"{name}@2.0.0-rc.1"]
    detail = await runtime.catalog.get_service(alice, name)
    assert detail.status is ServiceStatus.PUBLISHED
    assert detail.latest_version == "1.10.0"  # a pre-release is never latest over a release
    assert detail.description == "Notes, searchable"
    assert {v.version for v in detail.versions} == {"1.2.0", "1.10.0", "2.0.0-rc.1"}
    assert all(v.published for v in detail.versions)
    found = await runtime.catalog.search(alice, "searchable")
    assert [s.name for s in found.items] == [name]


async def test_an_entry_that_cannot_publish_leaves_nothing_and_the_next_one_lands(
    runtime: Runtime,
) -> None:
    alice = await make_user(runtime, "alice", Role.AUTHOR)
    name = "io.github.acme/clock"
    report = await runtime.catalog.import_documents(
        alice,
        [
            document("empty.json", name, "0.9.0", packages=None),
            document("good.json", name, "1.0.0"),
        ],
    )
    assert [(p.origin, p.entry) for p in report.problems] == [("empty.json", f"{name}@0.9.0")]
    assert "nothing to run" in report.problems[0].reason
    assert report.created == [f"{name}@1.0.0"]
    detail = await runtime.catalog.get_service(alice, name)
    assert [v.version for v in detail.versions] == ["1.0.0"]
    assert detail.status is ServiceStatus.PUBLISHED


async def test_a_deprecated_entry_imports_deprecated_with_its_message(runtime: Runtime) -> None:
    alice = await make_user(runtime, "alice", Role.AUTHOR)
    name = "io.github.acme/old"
    meta = {OFFICIAL: {"status": "deprecated", "statusMessage": "use io.github.acme/new"}}
    report = await runtime.catalog.import_documents(
        alice, [document("old.json", name, "1.0.0", _meta=meta)]
    )
    assert report.created == [f"{name}@1.0.0"]
    detail = await runtime.catalog.get_service(alice, name)
    assert detail.status is ServiceStatus.DEPRECATED
    assert detail.deprecation_message == "use io.github.acme/new"


async def test_reimport_is_unchanged_and_a_changed_published_version_is_refused(
    runtime: Runtime,
) -> None:
    alice = await make_user(runtime, "alice", Role.AUTHOR)
    name = "io.github.acme/notes"
    documents = [document("a.json", name, "1.0.0"), document("b.json", name, "1.1.0")]
    await runtime.catalog.import_documents(alice, documents)
    again = await runtime.catalog.import_documents(alice, documents)
    assert (again.created, again.updated, sorted(again.unchanged)) == (
        [],
        [],
        [f"{name}@1.0.0", f"{name}@1.1.0"],
    )
    changed = document("a.json", name, "1.0.0", websiteUrl="https://example.com/notes")
    changed_packages = json.loads(changed.text)
    changed_packages["packages"][0]["identifier"] = "ghcr.io/acme/other:1.0.0"
    refused = await runtime.catalog.import_documents(
        alice, [CatalogDocument(origin="a.json", text=json.dumps(changed_packages))]
    )
    assert "published and immutable" in refused.problems[0].reason
    detail = await runtime.catalog.get_service(alice, name)
    version = next(v for v in detail.versions if v.version == "1.0.0")
    assert version.docker_image == "ghcr.io/acme/notes:1.0.0"


async def test_a_user_without_the_author_role_imports_nothing(runtime: Runtime) -> None:
    bob = await make_user(runtime, "bob", Role.USER)
    with pytest.raises(Forbidden, match="author"):
        await runtime.catalog.import_documents(
            bob, [document("a.json", "io.github.bob/x", "1.0.0")]
        )
    assert (await runtime.catalog.search(bob, "")).total == 0
