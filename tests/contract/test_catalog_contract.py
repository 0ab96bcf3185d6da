"""The catalog behaves the same through the embedded backend and through the daemon's API."""

from __future__ import annotations

import asyncio

import pytest

from mcp_console.schemas.catalog import (
    CatalogDocument,
    ReviewCreate,
    ServiceStatus,
    ServiceUpdate,
)
from mcp_console.schemas.errors import Conflict, Forbidden, Invalid, NotFound
from mcp_console.schemas.users import Role
from tests.contract.conftest import Clients
from tests.contract.documents import server_json, service, version

WEATHER = "io.github.acme/weather"


async def test_register_version_publish_and_read_back(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    draft = await alice.register_service(service(WEATHER, category="weather", tags=["Forecast"]))
    assert (draft.name, draft.status, draft.author) == (WEATHER, ServiceStatus.DRAFT, "alice")
    assert draft.tags == ["forecast"]

    first = await alice.add_version(WEATHER, version("1.0.0"))
    beta = await alice.add_version(WEATHER, version("1.1.0-beta.1"))
    assert first.is_latest
    assert not first.is_prerelease
    assert beta.is_prerelease
    assert not beta.is_latest

    published = await alice.publish_service(WEATHER)
    assert published.status is ServiceStatus.PUBLISHED
    assert published.latest_version == "1.0.0"

    bob = await clients.user("bob", Role.USER)
    detail = await bob.get_service(WEATHER)
    assert sorted(v.version for v in detail.versions) == ["1.0.0", "1.1.0-beta.1"]
    assert detail.category == "weather"
    assert [s.name for s in await alice.my_services()] == [WEATHER]

    changed = await alice.update_service(WEATHER, ServiceUpdate(description="Rain or shine"))
    assert changed.description == "Rain or shine"
    assert (await bob.get_service(WEATHER)).description == "Rain or shine"


async def test_drafts_and_unknown_services_are_not_found(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    bob = await clients.user("bob", Role.USER)
    await alice.register_service(service(WEATHER))
    with pytest.raises(NotFound, match="no service named"):
        await bob.get_service(WEATHER)
    with pytest.raises(NotFound):
        await alice.get_service("io.github.acme/nothing-here")
    assert (await alice.get_service(WEATHER)).status is ServiceStatus.DRAFT


async def test_only_the_author_changes_a_service(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    mallory = await clients.user("mallory", Role.AUTHOR)
    bob = await clients.user("bob", Role.USER)
    await alice.register_service(service(WEATHER))
    await alice.add_version(WEATHER, version("1.0.0"))
    await alice.publish_service(WEATHER)

    with pytest.raises(Forbidden, match="author"):
        await mallory.update_service(WEATHER, ServiceUpdate(description="mine now"))
    with pytest.raises(Forbidden):
        await mallory.add_version(WEATHER, version("2.0.0"))
    with pytest.raises(Forbidden):
        await mallory.deprecate_service(WEATHER, "gone")
    with pytest.raises(Forbidden):
        await bob.register_service(service("io.github.bob/tool"))

    detail = await alice.get_service(WEATHER)
    assert detail.description != "mine now"
    assert [v.version for v in detail.versions] == ["1.0.0"]
    assert detail.status is ServiceStatus.PUBLISHED


async def test_names_versions_and_publishing_refuse_bad_requests(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    await alice.register_service(service(WEATHER))
    with pytest.raises(Conflict) as duplicate:
        await alice.register_service(service(WEATHER))
    assert duplicate.value.field == "name"
    with pytest.raises(Conflict, match="no version"):
        await alice.publish_service(WEATHER)
    with pytest.raises(Invalid):
        await alice.add_version(WEATHER, version("latest"))
    await alice.add_version(WEATHER, version("1.0.0"))
    with pytest.raises(Conflict) as again:
        await alice.add_version(WEATHER, version("1.0.0"))
    assert again.value.field == "version"


async def test_search_with_filters_and_paging(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    catalog = [
        ("io.github.acme/weather", "weather", ["forecast", "api"]),
        ("io.github.acme/postgres", "database", ["db", "sql"]),
        ("io.github.acme/sqlite", "database", ["db"]),
    ]
    for name, category, tags in catalog:
        await alice.register_service(service(name, category=category, tags=tags))
        await alice.add_version(name, version("1.0.0"))
        await alice.publish_service(name)
    await alice.register_service(service("io.github.acme/draft-db", tags=["db"]))

    bob = await clients.user("bob", Role.USER)
    by_tag = await bob.search_services("tag:db sort:name")
    assert [s.name for s in by_tag.items] == ["io.github.acme/postgres", "io.github.acme/sqlite"]
    assert by_tag.total == 2
    by_category = await bob.search_services("category:weather")
    assert [s.name for s in by_category.items] == ["io.github.acme/weather"]
    words = await bob.search_services("postgres")
    assert words.items[0].name == "io.github.acme/postgres"

    first = await bob.search_services("sort:name", page=1, page_size=2)
    second = await bob.search_services("sort:name", page=2, page_size=2)
    assert first.total == second.total == 3
    assert [s.name for s in first.items + second.items] == sorted(n for n, _, _ in catalog)

    categories = {c.name: c.count for c in await bob.list_categories()}
    assert categories == {"database": 2, "weather": 1}
    tag_counts = {t.name: t.count for t in await bob.list_tags()}
    assert tag_counts["db"] == 2
    everything = await bob.search_services("", page_size=100)
    assert "io.github.acme/draft-db" not in {s.name for s in everything.items}
    assert everything.total == 3
    assert "io.github.acme/draft-db" in {s.name for s in await alice.my_services()}


async def test_an_unknown_filter_is_refused_by_name(clients: Clients) -> None:
    bob = await clients.user("bob", Role.USER)
    with pytest.raises(Invalid, match="colour") as error:
        await bob.search_services("colour:blue")
    assert "tag" in error.value.message
    with pytest.raises(Invalid) as paging:
        await bob.search_services("", page_size=0)
    assert paging.value.field == "page_size"


async def test_reviews_update_the_rating(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    await alice.register_service(service(WEATHER))
    await alice.add_version(WEATHER, version())
    await alice.publish_service(WEATHER)
    bob = await clients.user("bob", Role.USER)
    carol = await clients.user("carol", Role.USER)

    review = await bob.add_review(WEATHER, ReviewCreate(rating=4, comment="good"))
    assert (review.service, review.user, review.rating) == (WEATHER, "bob", 4)
    await carol.add_review(WEATHER, ReviewCreate(rating=2, comment="slow"))
    await bob.add_review(WEATHER, ReviewCreate(rating=5, comment="better now"))

    reviews = await alice.list_reviews(WEATHER)
    assert sorted((r.user, r.rating, r.comment) for r in reviews) == [
        ("bob", 5, "better now"),
        ("carol", 2, "slow"),
    ]
    detail = await alice.get_service(WEATHER)
    assert (detail.rating_count, detail.rating_average) == (2, 3.5)
    assert detail.rating_histogram == {1: 0, 2: 1, 3: 0, 4: 0, 5: 1}


async def test_a_bad_review_is_refused_naming_the_field(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    await alice.register_service(service(WEATHER))
    await alice.add_version(WEATHER, version())
    await alice.publish_service(WEATHER)
    bob = await clients.user("bob", Role.USER)

    # model_construct skips the DTO's own check, as a hand-written request body would.
    with pytest.raises(Invalid) as error:
        await bob.add_review(WEATHER, ReviewCreate.model_construct(rating=9, comment=""))
    assert error.value.field == "rating"
    with pytest.raises(NotFound):
        await bob.add_review("io.github.acme/unknown", ReviewCreate(rating=3))
    assert await alice.list_reviews(WEATHER) == []
    assert (await alice.get_service(WEATHER)).rating_count == 0


async def test_import_publish_export_and_deprecate_server_json(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    documents = [
        CatalogDocument(
            origin="notes.json",
            text=server_json("io.github.acme/notes", "0.3.1", category="productivity"),
        ),
        CatalogDocument(origin="time.json", text=server_json("io.github.acme/time", "2.0.0")),
        CatalogDocument(origin="broken.json", text='{"name": "io.github.acme/broken"'),
    ]
    report = await alice.import_catalog(documents)
    assert sorted(report.created) == ["io.github.acme/notes@0.3.1", "io.github.acme/time@2.0.0"]
    assert [p.origin for p in report.problems] == ["broken.json"]
    again = await alice.import_catalog(documents[:2])
    assert (again.created, again.updated, len(again.unchanged)) == ([], [], 2)

    text = server_json("io.github.acme/notes", "0.4.0", description="Notes, now searchable")
    detail = await alice.publish_server_json(text, "notes-0.4.0.json")
    assert detail.status is ServiceStatus.PUBLISHED
    assert detail.latest_version == "0.4.0"
    with pytest.raises(Invalid, match=r"^bad\.json: name"):
        await alice.publish_server_json('{"name": 42}', "bad.json")

    exported = await alice.export_server_json("io.github.acme/notes")
    assert (exported["name"], exported["version"]) == ("io.github.acme/notes", "0.4.0")
    older = await alice.export_server_json("io.github.acme/notes", "0.3.1")
    assert older["version"] == "0.3.1"
    with pytest.raises(NotFound):
        await alice.export_server_json("io.github.acme/notes", "9.9.9")

    deprecated = await alice.deprecate_service("io.github.acme/time", "use io.github.acme/clock")
    assert deprecated.status is ServiceStatus.DEPRECATED
    assert deprecated.deprecation_message == "use io.github.acme/clock"


async def test_events_arrive_after_a_write(clients: Clients) -> None:
    alice = await clients.user("alice", Role.AUTHOR)
    await alice.register_service(service(WEATHER))
    await alice.add_version(WEATHER, version())
    async with alice.events() as stream:
        await alice.publish_service(WEATHER)
        event = await asyncio.wait_for(anext(stream), 10)
    assert event == {"type": "service.published", "service": WEATHER}
