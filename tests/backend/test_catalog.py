"""CatalogService: drafts, versions, publishing, deprecation, permissions and downloads."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mcp_console.backend.db.models import McpService, ServiceTag, ServiceVersion
from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import (
    PackageRef,
    ServiceCreate,
    ServiceStatus,
    ServiceUpdate,
    VersionCreate,
)
from mcp_console.schemas.errors import Conflict, Forbidden, Invalid, NotFound
from mcp_console.schemas.users import Role
from tests.backend.factories import IMAGE, make_user, published


async def count(runtime: Runtime, model: type[object]) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_register_starts_as_a_draft_seen_only_by_its_author(runtime: Runtime) -> None:
    alice = await make_user(runtime, "alice", Role.AUTHOR)
    bob = await make_user(runtime, "bob", Role.USER)
    detail = await runtime.catalog.register(
        alice, ServiceCreate(name="io.example/weather", tags=["Weather", "weather", " api "])
    )
    assert detail.status is ServiceStatus.DRAFT
    assert detail.display_name == "weather"
    assert detail.tags == ["weather", "api"]
    assert (await runtime.catalog.get_service(alice, "io.example/weather")).author == "alice"
    with pytest.raises(NotFound):
        await runtime.catalog.get_service(bob, "io.example/weather")
    async with runtime.sessions() as session:
        tags = set(await session.scalars(select(ServiceTag.tag)))
    assert tags == {"weather", "api"}


async def test_plain_users_cannot_register_and_names_are_unique(runtime: Runtime) -> None:
    alice = await make_user(runtime, "alice", Role.AUTHOR)
    bob = await make_user(runtime, "bob", Role.USER)
    with pytest.raises(Forbidden):
        await runtime.catalog.register(bob, ServiceCreate(name="bobs-service"))
    await runtime.catalog.register(alice, ServiceCreate(name="weather"))
    with pytest.raises(Conflict) as error:
        await runtime.catalog.register(alice, ServiceCreate(name="weather"))
    assert error.value.field == "name"
    assert await count(runtime, McpService) == 1


async def test_publish_needs_a_version_with_something_to_run(runtime: Runtime) -> None:
    alice = await make_user(runtime, "alice", Role.AUTHOR)
    await runtime.catalog.register(alice, ServiceCreate(name="weather"))
    with pytest.raises(Conflict, match="no version"):
        await runtime.catalog.publish(alice, "weather")
    await runtime.catalog.add_version(alice, "weather", VersionCreate(version="1.0.0"))
    with pytest.raises(Conflict, match="nothing to run"):
        await runtime.catalog.publish(alice, "weather")
    await runtime.catalog.add_version(
        alice,
        "weather",
        VersionCreate(
            version="1.1.0",
            packages=[PackageRef(registry_type="pypi", identifier="weather-mcp", version="1.1.0")],
        ),
    )
    detail = await runtime.catalog.publish(alice, "weather")
    assert detail.status is ServiceStatus.PUBLISHED
    assert all(v.published for v in detail.versions)


async def test_published_versions_are_immutable(runtime: Runtime) -> None:
    alice = await make_user(runtime, "alice", Role.AUTHOR)
    await published(runtime, alice, "weather", "1.0.0")
    with pytest.raises(Conflict) as error:
        await runtime.catalog.add_version(
            alice, "weather", VersionCreate(version="1.0.0", docker_image="other:2")
        )
    assert error.value.field == "version"
    async with runtime.sessions() as session:
        image = await session.scalar(select(ServiceVersion.docker_image))
    assert image == IMAGE


@pytest.mark.parametrize(
    "version", ["latest", "^1.2.0", "1.x", ">=1.0.0", "1.0", "v1.0.0", "01.0.0", "1.0.0-"]
)
async def test_versions_must_be_exact_semver(runtime: Runtime, version: str) -> None:
    alice = await make_user(runtime, "alice", Role.AUTHOR)
    await runtime.catalog.register(alice, ServiceCreate(name="weather"))
    with pytest.raises(Invalid) as error:
        await runtime.catalog.add_version(alice, "weather", VersionCreate(version=version))
    assert error.value.field == "version"
    assert await count(runtime, ServiceVersion) == 0


async def test_config_schema_must_be_a_json_schema(runtime: Runtime) -> None:
    alice = await make_user(runtime, "alice", Role.AUTHOR)
    await runtime.catalog.register(alice, ServiceCreate(name="weather"))
    bad = {"type": "object", "properties": {"units": {"type": "colour"}}}
    with pytest.raises(Invalid) as error:
        await runtime.catalog.add_version(
            alice, "weather", VersionCreate(version="1.0.0", config_schema=bad)
        )
    assert error.value.field == "config_schema.properties.units.type"
    assert await count(runtime, ServiceVersion) == 0


async def test_latest_is_the_highest_release_not_the_newest(runtime: Runtime) -> None:
    alice = await make_user(runtime, "alice", Role.AUTHOR)
    await published(runtime, alice, "weather", "0.9.0-beta.1")
    latest = await runtime.catalog.get_service(alice, "weather")
    assert latest.latest_version == "0.9.0-beta.1"  # a pre-release is latest while alone
    for version in ("1.0.0", "0.10.0", "2.0.0-rc.1", "1.0.1", "1.0.0-alpha"):
        await runtime.catalog.add_version(
            alice, "weather", VersionCreate(version=version, docker_image=IMAGE)
        )
    detail = await runtime.catalog.get_service(alice, "weather")
    assert detail.latest_version == "1.0.1"
    assert [v.version for v in detail.versions if v.is_latest] == ["1.0.1"]


async def test_only_the_author_or_an_admin_changes_a_service(runtime: Runtime) -> None:
    alice = await make_user(runtime, "alice", Role.AUTHOR)
    mallory = await make_user(runtime, "mallory", Role.AUTHOR)
    admin = await make_user(runtime, "root", Role.ADMIN)
    await published(runtime, alice, "weather")
    with pytest.raises(Forbidden):
        await runtime.catalog.add_version(
            mallory, "weather", VersionCreate(version="9.9.9", docker_image=IMAGE)
        )
    with pytest.raises(Forbidden):
        await runtime.catalog.deprecate(mallory, "weather", "use mine")
    with pytest.raises(Forbidden):
        await runtime.catalog.update(mallory, "weather", ServiceUpdate(description="pwned"))
    with pytest.raises(Forbidden):
        await runtime.catalog.update(alice, "weather", ServiceUpdate(featured=True))
    detail = await runtime.catalog.update(admin, "weather", ServiceUpdate(featured=True))
    assert detail.featured
    assert (await runtime.catalog.get_service(None, "weather")).description == "weather does things"
    assert [s.name for s in await runtime.catalog.featured()] == ["weather"]


async def test_deprecate_keeps_the_service_and_says_why(runtime: Runtime) -> None:
    alice = await make_user(runtime, "alice", Role.AUTHOR)
    await published(runtime, alice, "weather")
    with pytest.raises(Invalid):
        await runtime.catalog.deprecate(alice, "weather", "  ")
    detail = await runtime.catalog.deprecate(alice, "weather", "use weather2")
    assert detail.status is ServiceStatus.DEPRECATED
    assert detail.deprecation_message == "use weather2"
    with pytest.raises(Conflict, match="deprecate it instead"):
        await runtime.catalog.delete_draft(alice, "weather")
    assert (await runtime.catalog.get_service(None, "weather")).name == "weather"


async def test_drafts_can_be_deleted_entirely(runtime: Runtime) -> None:
    alice = await make_user(runtime, "alice", Role.AUTHOR)
    await runtime.catalog.register(alice, ServiceCreate(name="scratch", tags=["x"]))
    await runtime.catalog.add_version(alice, "scratch", VersionCreate(version="0.1.0"))
    await runtime.catalog.delete_draft(alice, "scratch")
    assert await count(runtime, McpService) == 0
    assert await count(runtime, ServiceVersion) == 0
    assert await count(runtime, ServiceTag) == 0


async def test_downloads_count_one_per_call(runtime: Runtime) -> None:
    alice = await make_user(runtime, "alice", Role.AUTHOR)
    await published(runtime, alice, "weather")
    for _ in range(3):
        await runtime.catalog.record_download("weather")
    assert (await runtime.catalog.get_service(None, "weather")).downloads_count == 3
    with pytest.raises(NotFound):
        await runtime.catalog.record_download("nope")


async def test_unknown_service_is_not_found(runtime: Runtime) -> None:
    alice = await make_user(runtime, "alice", Role.AUTHOR)
    with pytest.raises(NotFound, match="nope"):
        await runtime.catalog.get_service(alice, "nope")
    with pytest.raises(NotFound):
        await runtime.catalog.add_version(alice, "nope", VersionCreate(version="1.0.0"))
