"""Catalog search on SQLite and PostgreSQL: grammar, ranking, filters, visibility, paging."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from alembic import command
from sqlalchemy import Connection, delete, inspect, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from mcp_console.backend.catalog.search import (
    SearchIndex,
    SqliteSearchIndex,
    category_counts,
    parse_query,
    search_index_for,
    tag_counts,
)
from mcp_console.backend.catalog.search.base import Scope, SearchHits, order_columns
from mcp_console.backend.catalog.search.postgres import Explain, PostgresSearchIndex, conditions
from mcp_console.backend.catalog.search.sqlite import Plan, page_statement
from mcp_console.backend.db.engine import create_engine, session_factory
from mcp_console.backend.db.migrate import alembic_config
from mcp_console.backend.db.models import McpService, ServiceTag, User
from mcp_console.schemas.catalog import (
    CategoryCount,
    PriceModel,
    ServiceStatus,
    SortKey,
    TagCount,
)
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.users import Principal, Role

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Catalog:
    """A database with users, its search index, and helpers to add services and search."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    index: SearchIndex
    users: dict[str, Principal] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def add_user(self, name: str, role: Role) -> Principal:
        async with self.sessions.begin() as session:
            user = User(name=name, role=role.value)
            session.add(user)
            await session.flush()
            self.users[name] = Principal(user_id=user.id, name=name, role=role)
        return self.users[name]

    async def add(
        self,
        name: str,
        *,
        author: str = "alice",
        display_name: str | None = None,
        description: str = "",
        category: str | None = None,
        tags: Sequence[str] = (),
        price: PriceModel = PriceModel.FREE,
        status: ServiceStatus = ServiceStatus.PUBLISHED,
        featured: bool = False,
        downloads: int = 0,
        rating: float = 0.0,
        ratings: int = 0,
        age_days: int = 0,
    ) -> int:
        """Insert a service row with the ORM and index it, as the catalog does."""
        async with self.sessions.begin() as session:
            row = McpService(
                name=name,
                display_name=display_name or name,
                description=description,
                category=category,
                tags=list(tags),
                author_id=self.users[author].user_id,
                price_model=price.value,
                status=status.value,
                featured=featured,
                downloads_count=downloads,
                rating_average=rating,
                rating_count=ratings,
                created_at=T0 - timedelta(days=age_days),
            )
            session.add(row)
            await session.flush()
            session.add_all(ServiceTag(service_id=row.id, tag=tag) for tag in tags)
            await session.flush()
            await self.index.index(session, [row.id])
            self.ids[name] = row.id
        return row.id

    async def search(
        self,
        text_: str,
        actor: Principal | None = None,
        *,
        page: int = 1,
        page_size: int = 50,
        index: SearchIndex | None = None,
    ) -> tuple[list[str], int]:
        """Names of one page of results, and the total (counted exactly)."""
        names, hits = await self.hits(
            text_, actor, page=page, page_size=page_size, index=index or self.index
        )
        assert hits.exact
        return names, hits.total

    async def hits(
        self,
        text_: str,
        actor: Principal | None = None,
        *,
        page: int = 1,
        page_size: int = 50,
        index: SearchIndex,
    ) -> tuple[list[str], SearchHits]:
        """Names of one page of results, and what ``index`` found (maybe an estimated total)."""
        by_id = {service_id: name for name, service_id in self.ids.items()}
        async with self.sessions() as session:
            hits = await index.search(
                session, parse_query(text_), actor=actor, page=page, page_size=page_size
            )
        return [by_id.get(service_id, f"#{service_id}") for service_id in hits.ids], hits

    async def names(self, text_: str, actor: Principal | None = None) -> list[str]:
        names, total = await self.search(text_, actor)
        assert total == len(names)
        return names


@pytest_asyncio.fixture
async def catalog(database_url: str) -> AsyncIterator[Catalog]:
    """An empty migrated database with four users: two authors, an admin and a plain user."""
    engine = create_engine(database_url)
    cat = Catalog(engine, session_factory(engine), search_index_for(engine.dialect.name))
    await cat.add_user("alice", Role.AUTHOR)
    await cat.add_user("bob", Role.AUTHOR)
    await cat.add_user("root", Role.ADMIN)
    await cat.add_user("carol", Role.USER)
    try:
        yield cat
    finally:
        await engine.dispose()


@pytest_asyncio.fixture
async def market(catalog: Catalog) -> Catalog:
    """A small market: four published services, one deprecated, two drafts."""
    await catalog.add(
        "io.github.acme/weather",
        display_name="Weather",
        description="Forecasts and current conditions for any city.",
        category="utilities",
        tags=["weather", "api"],
        downloads=500,
        rating=4.5,
        ratings=10,
        age_days=30,
    )
    await catalog.add(
        "github-official",
        author="bob",
        display_name="GitHub Official",
        description="Manage repositories, issues and pull requests.",
        category="devops",
        tags=["git", "devops"],
        price=PriceModel.PAID,
        downloads=900,
        rating=4.8,
        ratings=40,
        age_days=10,
    )
    await catalog.add(
        "notes-keeper",
        display_name="Notes Keeper",
        description="Stores notes and syncs them with GitHub gists.",
        category="devops",
        tags=["notes"],
        price=PriceModel.FREEMIUM,
        featured=True,
        downloads=5000,
        rating=3.9,
        ratings=5,
        age_days=20,
    )
    await catalog.add(
        "postgres-tools",
        author="bob",
        display_name="Postgres Tools",
        description="Query PostgreSQL databases.",
        category="databases",
        tags=["db", "sql"],
        downloads=300,
        rating=4.8,
        ratings=12,
        age_days=5,
    )
    await catalog.add(
        "legacy-weather",
        description="The old weather service.",
        category="utilities",
        tags=["weather"],
        status=ServiceStatus.DEPRECATED,
        downloads=50,
    )
    await catalog.add(
        "secret-weather",
        description="Weather, not ready yet.",
        tags=["weather", "db"],
        status=ServiceStatus.DRAFT,
    )
    await catalog.add(
        "bob-draft",
        author="bob",
        description="A database draft.",
        tags=["db"],
        status=ServiceStatus.DRAFT,
    )
    return catalog


PUBLISHED_BY_DOWNLOADS = [
    "notes-keeper",
    "github-official",
    "io.github.acme/weather",
    "postgres-tools",
]
GITHUB_BY_RELEVANCE = ["github-official", "io.github.acme/weather", "notes-keeper"]
GITHUB_BY_DOWNLOADS = ["notes-keeper", "github-official", "io.github.acme/weather"]


# --- the grammar -----------------------------------------------------------------------------


def test_parse_mixes_words_and_filters() -> None:
    query = parse_query(
        'git  category:"Dev Ops" tag:db TAG:sql price:free|Freemium status:deprecated '
        "author:bob featured:yes sort:rating tools"
    )
    assert query.words == ("git", "tools")
    assert query.category == "Dev Ops"
    assert query.tags == ("db", "sql")
    assert query.prices == (PriceModel.FREE, PriceModel.FREEMIUM)
    assert query.status is ServiceStatus.DEPRECATED
    assert query.author == "bob"
    assert query.featured is True
    assert query.sort == "rating"


def test_default_sort_is_relevance_with_words_and_downloads_without() -> None:
    assert parse_query("weather").sort == "relevance"
    assert parse_query("tag:db").sort == "downloads"
    assert parse_query("").sort == "downloads"


def test_words_of_punctuation_alone_are_dropped_and_phrases_kept() -> None:
    query = parse_query('* -- "io.github.acme/weather" "two words" () "')
    assert query.words == ("io.github.acme/weather", "two words")


def test_unknown_key_names_it_and_lists_the_valid_keys() -> None:
    with pytest.raises(Invalid) as caught:
        parse_query("weather colour:blue")
    message = caught.value.message
    assert "'colour:'" in message
    for key in ("author", "category", "featured", "price", "sort", "status", "tag"):
        assert key in message


@pytest.mark.parametrize(
    ("text_", "key", "valid"),
    [
        ("price:cheap", "price:", ("free", "paid", "freemium")),
        ("price:free|gratis", "price:", ("free", "paid", "freemium")),
        ("status:gone", "status:", ("published", "draft", "deprecated")),
        ("featured:maybe", "featured:", ("yes", "no")),
        ("sort:popular", "sort:", ("relevance", "rating", "downloads", "new", "name")),
        ("sort:", "sort:", ("relevance", "rating", "downloads", "new", "name")),
    ],
)
def test_bad_value_names_the_key_and_lists_the_valid_values(
    text_: str, key: str, valid: tuple[str, ...]
) -> None:
    with pytest.raises(Invalid) as caught:
        parse_query(text_)
    assert repr(key) in caught.value.message
    for value in valid:
        assert value in caught.value.message


@pytest.mark.parametrize(
    ("text_", "complaint"),
    [
        ("tag:", "needs a value"),
        ('category:""', "needs a value"),
        ("category:a category:b", "only once"),
        ("price:free price:paid", "use |"),
        ("x" * 1001, "longer than"),
        ("weather\x00", "control characters"),
        ("tag:\x07db", "control characters"),
    ],
)
def test_missing_repeated_or_oversized_input_is_refused(text_: str, complaint: str) -> None:
    with pytest.raises(Invalid, match=complaint):
        parse_query(text_)


# --- text search -----------------------------------------------------------------------------


async def test_a_name_match_outranks_a_description_match(market: Catalog) -> None:
    # notes-keeper only mentions GitHub in its description, and has far more downloads;
    # github-official has it in its name and display name, acme's weather in its name.
    assert await market.names("github") == GITHUB_BY_RELEVANCE


async def test_words_match_as_prefixes(market: Catalog) -> None:
    assert await market.names("git") == GITHUB_BY_RELEVANCE
    assert await market.names("wea") == ["io.github.acme/weather"]
    assert await market.names("postgre datab") == ["postgres-tools"]


async def test_names_are_found_by_their_parts_and_whole(market: Catalog) -> None:
    assert await market.names("acme") == ["io.github.acme/weather"]
    assert await market.names("official") == ["github-official"]
    assert await market.names("io.github.acme/weather") == ["io.github.acme/weather"]
    assert await market.names('"github official"') == ["github-official"]


async def test_all_words_must_match(market: Catalog) -> None:
    assert await market.names("notes github") == ["notes-keeper"]
    assert await market.names("notes weather") == []


async def test_tags_are_searched_and_case_does_not_matter(market: Catalog) -> None:
    assert await market.names("SQL") == ["postgres-tools"]
    assert await market.names("FORECASTS") == ["io.github.acme/weather"]


# --- filters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text_", "expected"),
    [
        ("category:devops", ["notes-keeper", "github-official"]),
        ("category:DevOps", ["notes-keeper", "github-official"]),
        ("category:nothing", []),
        ("tag:db", ["postgres-tools"]),
        ("tag:weather tag:api", ["io.github.acme/weather"]),
        ("tag:weather tag:db", []),
        ("price:paid", ["github-official"]),
        ("price:free|freemium", ["notes-keeper", "io.github.acme/weather", "postgres-tools"]),
        ("author:alice", ["notes-keeper", "io.github.acme/weather"]),
        ("author:BOB", ["github-official", "postgres-tools"]),
        ("author:nobody", []),
        ("featured:yes", ["notes-keeper"]),
        ("featured:no", ["github-official", "io.github.acme/weather", "postgres-tools"]),
        ("status:published", PUBLISHED_BY_DOWNLOADS),
        ("status:deprecated", ["legacy-weather"]),
        ("git category:devops price:paid", ["github-official"]),
        ("git author:alice", ["io.github.acme/weather", "notes-keeper"]),
        ("weather status:deprecated", ["legacy-weather"]),
        ("d tag:db featured:no category:databases price:free author:bob", []),
        ("data tag:db featured:no category:databases price:free author:bob", ["postgres-tools"]),
    ],
)
async def test_filters_alone_and_with_words(
    market: Catalog, text_: str, expected: list[str]
) -> None:
    assert await market.names(text_) == expected


# --- sorting and paging ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text_", "expected"),
    [
        ("", PUBLISHED_BY_DOWNLOADS),
        ("sort:relevance", PUBLISHED_BY_DOWNLOADS),
        ("sort:downloads", PUBLISHED_BY_DOWNLOADS),
        # Equal averages: more ratings first.
        (
            "sort:rating",
            ["github-official", "postgres-tools", "io.github.acme/weather", "notes-keeper"],
        ),
        (
            "sort:new",
            ["postgres-tools", "github-official", "notes-keeper", "io.github.acme/weather"],
        ),
        (
            "sort:name",
            ["github-official", "io.github.acme/weather", "notes-keeper", "postgres-tools"],
        ),
        ("github sort:downloads", GITHUB_BY_DOWNLOADS),
    ],
)
async def test_sort_keys(market: Catalog, text_: str, expected: list[str]) -> None:
    assert await market.names(text_) == expected


async def test_sort_by_name_ignores_case_however_a_page_is_read(catalog: Catalog) -> None:
    for name in ("SQLite", "astra-db", "Zed-Store", "beta-db", "MySQL", "mongo-db"):
        await catalog.add(name, description="a database", tags=["database"])
    for i in range(30):  # enough others that pages may be read by walking the name index
        await catalog.add(f"other-{i:02d}", description="unrelated")
    expected = ["astra-db", "beta-db", "mongo-db", "MySQL", "SQLite", "Zed-Store"]

    assert await catalog.names("tag:database sort:name") == expected
    assert await catalog.names("database sort:name") == expected
    assert await catalog.names("data sort:name") == expected
    assert (await catalog.search("sort:name", page_size=6))[0] == [
        *expected[:4],
        "other-00",
        "other-01",
    ]
    for reader in _page_readers(catalog.dialect):
        for text_ in ("database sort:name", "tag:database sort:name"):
            first, _ = await catalog.hits(text_, page=1, page_size=4, index=reader)
            second, hits = await catalog.hits(text_, page=2, page_size=4, index=reader)
            # The last page says exactly how many there are, whoever read it.
            assert (first + second, hits.total, hits.exact) == (expected, 6, True), reader


# Added Z to A, so that neither the ids nor the order of insertion can pass for names; one
# word each, so that the text scores them all the same.
TIED = ["zulu", "Yankee", "xray", "MIKE", "mike2", "delta", "Alpha"]
TIED_A_TO_Z = ["Alpha", "delta", "MIKE", "mike2", "xray", "Yankee", "zulu"]


@pytest.mark.parametrize(
    "text_",
    [
        "tag:tied",
        "tag:tied sort:downloads",
        "tag:tied sort:rating",
        "tag:tied sort:new",
        "tag:tied sort:name",
        # Equal descriptions score the same: ranked, they too go by name.
        "tied sort:relevance",
        "tied sort:downloads",
    ],
)
async def test_ties_go_by_name_from_a_to_z_in_every_sort(catalog: Catalog, text_: str) -> None:
    for name in TIED:
        await catalog.add(
            name,
            display_name="Tied",
            description="tied",
            tags=["tied"],
            downloads=70,
            rating=4.0,
            ratings=3,
        )
    # Others before and after them in every sort, so the ties sit mid-list.
    await catalog.add("first", tags=["tied"], downloads=90, rating=5.0, ratings=9, age_days=-1)
    await catalog.add("last", tags=["tied"], downloads=5, rating=1.0, ratings=1, age_days=9)
    names = await catalog.names(text_)
    ties = [name for name in names if name in TIED]
    assert ties == TIED_A_TO_Z
    if "sort:name" not in text_ and "tied sort" not in text_:
        assert names == ["first", *TIED_A_TO_Z, "last"]
    readers = [search_index_for(catalog.dialect), *_page_readers(catalog.dialect)]
    for reader in readers:  # forced ways of reading a page rank by popularity instead
        whole, _ = await catalog.hits(text_, page=1, page_size=50, index=reader)
        assert [name for name in whole if name in TIED] == TIED_A_TO_Z, (reader, text_)
        # Pages cut through the ties and still cover each service once.
        paged: list[str] = []
        for page in (1, 2, 3):
            got, _ = await catalog.hits(text_, page=page, page_size=3, index=reader)
            paged.extend(got)
        assert paged == whole, (reader, text_)


async def test_pages_cover_every_match_once_with_the_full_total(market: Catalog) -> None:
    first = await market.search("", page=1, page_size=3)
    second = await market.search("", page=2, page_size=3)
    beyond = await market.search("", page=3, page_size=3)

    assert first == (PUBLISHED_BY_DOWNLOADS[:3], 4)
    assert second == (PUBLISHED_BY_DOWNLOADS[3:], 4)
    assert beyond == ([], 4)


@pytest.mark.parametrize(("page", "page_size"), [(0, 10), (1, 0), (1, 501)])
async def test_bad_pages_are_refused(market: Catalog, page: int, page_size: int) -> None:
    with pytest.raises(Invalid):
        await market.search("", page=page, page_size=page_size)


async def test_large_result_sets_page_in_a_stable_order_for_every_sort(catalog: Catalog) -> None:
    # Enough matches that pages near the front are read by walking an index and deep pages
    # by sorting every match: both must agree with each other and with the declared order.
    for i in range(240):
        await catalog.add(
            f"bulk-{i:03d}",
            description=f"alpha bulk service {'even' if i % 2 == 0 else 'odd'}",
            downloads=(i * 7) % 50,
            rating=float(i % 5),
            ratings=i % 3,
            age_days=i % 9,
        )
    await catalog.add("other", description="nothing in common", downloads=10_000)
    ids = {service_id: name for name, service_id in catalog.ids.items()}
    async with catalog.sessions() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT id, downloads_count, rating_average, rating_count, created_at, name "
                    "FROM mcp_services WHERE name LIKE 'bulk-%'"
                )
            )
        ).all()
    by = {
        "downloads": sorted(rows, key=lambda r: (-r[1], r[5])),
        "rating": sorted(rows, key=lambda r: (-r[2], -r[3], r[5])),
        "new": sorted(sorted(rows, key=lambda r: r[5]), key=lambda r: r[4], reverse=True),
        "name": sorted(rows, key=lambda r: r[5]),
    }
    for sort, ordered in by.items():
        expected = [ids[r[0]] for r in ordered]
        pages: list[str] = []
        for page in range(1, 14):
            names, total = await catalog.search(f"alpha sort:{sort}", page=page, page_size=20)
            assert total == 240
            pages.extend(names)
        assert pages == expected, sort
    evens, total = await catalog.search("alpha even", page=6, page_size=20)
    assert total == 120
    assert len(evens) == 20
    assert all(int(name.removeprefix("bulk-")) % 2 == 0 for name in evens)


PLAN_QUERIES = [
    "alpha",
    "alpha sort:rating",
    "alpha sort:new",
    "alpha sort:name",
    "bulk odd",
    "tag:even",
    "tag:even price:paid",
    "price:free|freemium featured:no sort:rating",
    "category:sixes sort:name",
    "author:bob",
    "",
    "sort:new",
]


def _page_readers(dialect: str) -> list[SearchIndex]:
    """Indexes forced down every way each database has of reading a page."""
    if dialect == "sqlite":
        plans: list[Plan] = ["probe", "list", "sort", "scan"]
        return [SqliteSearchIndex(rank_cap=0, plan=plan) for plan in plans]
    return [
        # Expected to match few: gathered, sorted and counted at once.
        PostgresSearchIndex(rank_cap=0, estimate_cap=1_000_000),
        # Expected to match many: read in order, from the GIN index or walking a sort index.
        PostgresSearchIndex(rank_cap=0, estimate_cap=-1, walk=0),
        PostgresSearchIndex(rank_cap=0, estimate_cap=-1, walk=10_000),
    ]


# The index whose order each sort walks (its leading columns are the sort's).
SORT_INDEXES: dict[str, dict[SortKey, str]] = {
    "sqlite": {
        "downloads": "ix_mcp_services_downloads",
        "rating": "ix_search_rating",
        "new": "ix_mcp_services_created",
        "name": "ix_search_name",
    },
    "postgresql": {
        "downloads": "ix_search_downloads",
        "rating": "ix_search_rating",
        "new": "ix_search_created",
        "name": "ix_search_name",
    },
}


async def test_every_sort_walks_its_index_and_sorts_only_the_ties(catalog: Catalog) -> None:
    # Ties going by name must not turn a page near the front into sorting every match: the
    # sort's index gives the order, and only runs of equal values are put in name order.
    for i in range(30):
        await catalog.add(f"svc-{i:02d}", description="alpha", downloads=i % 3, rating=i % 2)
    async with catalog.sessions() as session:
        for sort, index in SORT_INDEXES[catalog.dialect].items():
            if catalog.dialect == "sqlite":
                for plan in ("list", "probe"):
                    statement = page_statement(plan, sort)
                    rows = await session.execute(
                        text(f"EXPLAIN QUERY PLAN {statement.text}"),
                        {"match": '"alpha"', "limit": 20, "offset": 0},
                    )
                    steps = [str(row[3]) for row in rows]
                    assert any(f"INDEX {index}" in step for step in steps), (sort, steps)
                    assert "USE TEMP B-TREE FOR ORDER BY" not in steps, (sort, steps)
                continue
            # Whatever a tiny table would make cheapest, a full sort must not be needed.
            await session.execute(text("SET LOCAL enable_sort = off"))
            await session.execute(text("SET LOCAL enable_seqscan = off"))
            query = parse_query(f"sort:{sort}")
            where = conditions(query, Scope(ServiceStatus.PUBLISHED))
            page = select(McpService.id).where(*where).order_by(*order_columns(sort)).limit(20)
            plan_lines = [str(line) for line in (await session.execute(Explain(page))).scalars()]
            assert any(index in line for line in plan_lines), (sort, plan_lines)
            # "Incremental Sort" on the index's order is fine; a plain "Sort" node is not.
            sorts = [line for line in plan_lines if re.search(r"(^|->)\s*Sort\s+\(", line)]
            assert not sorts, (sort, plan_lines)


async def test_every_way_of_reading_a_page_gives_the_same_pages(catalog: Catalog) -> None:
    # Each database picks how to read a page by its cost; every way must give the same pages.
    for i in range(90):
        parity = "even" if i % 2 == 0 else "odd"
        await catalog.add(
            f"bulk-{i:02d}",
            author="bob" if i % 3 == 0 else "alice",
            description=f"alpha bulk {parity}",
            category="sixes" if i % 6 == 0 else None,
            tags=[parity],
            price=list(PriceModel)[i % 3],
            featured=i % 10 == 0,
            status=ServiceStatus.DRAFT if i % 11 == 0 else ServiceStatus.PUBLISHED,
            downloads=(i * 7) % 20,
            rating=float(i % 4),
            ratings=i % 5,
            age_days=i % 6,
        )
    chosen = search_index_for(catalog.dialect, rank_cap=1)
    for reader in _page_readers(catalog.dialect):
        for text_ in PLAN_QUERIES:
            for page in (1, 2, 4):
                want, total = await catalog.search(text_, page=page, page_size=9, index=chosen)
                got, hits = await catalog.hits(text_, page=page, page_size=9, index=reader)
                assert got == want, (reader, text_, page)
                assert total > 0, text_
                if hits.exact:
                    assert hits.total == total, (reader, text_, page)
                else:
                    # An estimate, but never below what this page shows there is.
                    assert hits.total > (page - 1) * 9 + len(got), (reader, text_, page)


async def test_postgres_estimates_what_would_cost_too_much_to_count(catalog: Catalog) -> None:
    for i in range(8):
        # The name of the least downloaded matches best: ranked, it would come first.
        words = "countable countable things" if i == 0 else "countable things"
        await catalog.add(f"capped-{i}", description=words, downloads=i * 10)
    postgres = catalog.dialect == "postgresql"
    # Forced to take every search for a large one (the planner's estimate past the cap).
    index = PostgresSearchIndex(estimate_cap=-1) if postgres else catalog.index
    seen: list[int] = []
    for page in (1, 2, 3):
        async with catalog.sessions() as session:
            hits = await index.search(
                session, parse_query("countable"), actor=None, page=page, page_size=3
            )
        if page < 3:
            # Estimated while pages are full (SQLite counts exactly) ...
            assert hits.exact == (not postgres)
            assert hits.total >= (8 if not postgres else page * 3 + 1)
        else:
            # ... and known exactly once the last page shows where the matches end.
            assert (hits.total, hits.exact) == (8, True)
        seen += hits.ids
    if postgres:
        # Estimated as many, nothing is ranked (that would read every match): popularity orders.
        assert seen == [catalog.ids[f"capped-{i}"] for i in reversed(range(8))]
        # A page past the real end is counted, so a caller misled by an estimate can page back.
        async with catalog.sessions() as session:
            past = await index.search(
                session, parse_query("countable"), actor=None, page=9, page_size=3
            )
        assert (past.ids, past.total, past.exact) == ([], 8, True)
    assert sorted(seen) == sorted(catalog.ids[f"capped-{i}"] for i in range(8))


async def test_past_the_rank_cap_relevance_becomes_popularity(market: Catalog) -> None:
    capped = search_index_for(market.dialect, rank_cap=1)
    names, total = await market.search("github", index=capped)
    assert (names, total) == (GITHUB_BY_DOWNLOADS, 3)


# --- visibility ------------------------------------------------------------------------------


async def test_drafts_show_only_to_admins_and_their_authors(market: Catalog) -> None:
    users = market.users
    assert await market.names("status:draft", users["root"]) == ["bob-draft", "secret-weather"]
    assert await market.names("status:draft", users["alice"]) == ["secret-weather"]
    assert await market.names("status:draft weather", users["bob"]) == []
    assert await market.names("status:draft", users["carol"]) == []
    assert await market.names("status:draft", None) == []


async def test_default_search_hides_drafts_and_deprecated(market: Catalog) -> None:
    assert await market.names("weather", market.users["root"]) == ["io.github.acme/weather"]
    assert await market.names("tag:db", market.users["bob"]) == ["postgres-tools"]


async def test_text_that_looks_like_a_filter_token_cannot_change_visibility(
    catalog: Catalog,
) -> None:
    # The SQLite index stores filters as tokens beside the text: text spelling them must not
    # make a draft look published, nor a published service look like someone's draft.
    await catalog.add(
        "sneaky", description="0spublished 0pfree 0sdraft", status=ServiceStatus.DRAFT
    )
    await catalog.add("open", description="0sdraft 0a1 0a2 0a3")
    assert await catalog.names("") == ["open"]
    assert await catalog.names("0spublished") == []
    assert await catalog.names("0sdraft") == ["open"]
    assert await catalog.names("status:draft", catalog.users["carol"]) == []
    assert await catalog.names("status:draft", catalog.users["alice"]) == ["sneaky"]


# --- hostile input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text_",
    [
        '"',
        "*",
        "AND (",
        "'; DROP TABLE mcp_services; --",
        "github OR weather",
        "NOT github",
        "NEAR(github weather)",
        '"unterminated',
        "github* -notes ^weather",
        "{name}",
        "\\' \\\\ % _ ; --",
        "':* & !'x' | <-> ",
        "😀 émoji",
    ],
)
async def test_hostile_input_never_errors_or_escapes(market: Catalog, text_: str) -> None:
    names, total = await market.search(text_)
    assert total == len(names)
    assert set(names) <= set(PUBLISHED_BY_DOWNLOADS)
    # The catalog is intact.
    assert await market.names("") == PUBLISHED_BY_DOWNLOADS


async def test_operators_are_searched_as_plain_words(market: Catalog) -> None:
    assert await market.names("github) OR (weather") == []
    assert await market.names("(github*") == GITHUB_BY_RELEVANCE


# --- counts ----------------------------------------------------------------------------------


async def test_category_and_tag_counts_cover_published_services(market: Catalog) -> None:
    async with market.sessions() as session:
        categories = await category_counts(session, None)
        tags = await tag_counts(session, None)
        top = await tag_counts(session, None, limit=2)

    assert categories == [
        CategoryCount(name="devops", count=2),
        CategoryCount(name="databases", count=1),
        CategoryCount(name="utilities", count=1),
    ]
    assert tags == [
        TagCount(name=name, count=1)
        for name in ("api", "db", "devops", "git", "notes", "sql", "weather")
    ]
    assert top == tags[:2]
    with pytest.raises(Invalid):
        async with market.sessions() as session:
            await tag_counts(session, None, limit=0)


# --- keeping the index current ---------------------------------------------------------------


async def test_writes_that_bypass_the_catalog_still_reach_the_index(market: Catalog) -> None:
    async with market.sessions.begin() as session:
        await session.execute(
            update(McpService)
            .where(McpService.name == "postgres-tools")
            .values(description="Now speaks MySQL too.", tags=["db", "mysql"], category="sql")
        )
        await session.execute(delete(McpService).where(McpService.name == "notes-keeper"))
        await session.execute(
            update(McpService)
            .where(McpService.name == "bob-draft")
            .values(status=ServiceStatus.PUBLISHED.value)
        )

    assert await market.names("mysql") == ["postgres-tools"]
    assert await market.names("gists") == []
    assert await market.names("category:sql") == ["postgres-tools"]
    assert await market.names("author:bob") == ["github-official", "postgres-tools", "bob-draft"]


async def test_index_refreshes_rows_and_forgets_deleted_services(market: Catalog) -> None:
    weather = market.ids["io.github.acme/weather"]
    async with market.sessions.begin() as session:
        await session.execute(
            update(McpService).where(McpService.id == weather).values(display_name="Skies")
        )
        await market.index.index(session, [weather, 999_999])
    assert await market.names("skies") == ["io.github.acme/weather"]

    async with market.sessions.begin() as session:
        await session.execute(delete(McpService).where(McpService.id == weather))
        await market.index.index(session, [weather])
    assert await market.names("weather") == []
    assert await market.names("") == ["notes-keeper", "github-official", "postgres-tools"]


async def test_sqlite_index_repairs_missing_and_stray_rows(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    cat = Catalog(engine, session_factory(engine), search_index_for("sqlite"))
    try:
        await cat.add_user("alice", Role.AUTHOR)
        service_id = await cat.add("weather", description="forecasts", tags=["sky"])
        async with cat.sessions() as session:
            by_trigger = (
                await session.execute(
                    text("SELECT * FROM service_search WHERE rowid = :id"), {"id": service_id}
                )
            ).all()
        async with cat.sessions.begin() as session:
            await session.execute(text("DELETE FROM service_search"))
            await session.execute(
                text(
                    "INSERT INTO service_search (rowid, name, facets) "
                    "VALUES (424242, 'ghost', '0spublished')"
                )
            )
        # The stray row counts as a match until index() removes it.
        assert (await cat.search(""))[1] == 1

        async with cat.sessions.begin() as session:
            await cat.index.index(session, [service_id, 424242])
            by_index = (
                await session.execute(
                    text("SELECT * FROM service_search WHERE rowid = :id"), {"id": service_id}
                )
            ).all()

        # The triggers of the migration and index() write the very same row.
        assert by_index == by_trigger
        assert await cat.names("") == ["weather"]
        assert await cat.names("forecasts tag:sky") == ["weather"]

        async with cat.sessions.begin() as session:
            await session.execute(text("DELETE FROM service_search"))
            await cat.index.rebuild(session)
        assert await cat.names("fore") == ["weather"]
    finally:
        await engine.dispose()


# --- the migration ---------------------------------------------------------------------------


async def _run(config_url: str, action: str, revision: str) -> None:
    config = alembic_config(config_url)
    await asyncio.to_thread(getattr(command, action), config, revision)


async def test_migration_backfills_existing_services_and_downgrades_cleanly(
    empty_database_url: str,
) -> None:
    await _run(empty_database_url, "upgrade", "0001")
    engine = create_engine(empty_database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, name, role, created_at) VALUES (1, 'ann', 'author', :t)"
                ),
                {"t": T0},
            )
            await conn.execute(
                text(
                    "INSERT INTO mcp_services (id, name, display_name, description, category, tags,"
                    " author_id, price_model, price_per_request, status, featured, downloads_count,"
                    " rating_average, rating_count, rating_sum, created_at, updated_at) VALUES"
                    " (1, 'io.github.ann/tide-tables', 'Tides', 'High and low water.', 'sea',"
                    " '[\"ocean\"]', 1, 'FREE', 0, 'PUBLISHED', false, 0, 0, 0, 0, :t, :t)"
                ),
                {"t": T0},
            )
        await _run(empty_database_url, "upgrade", "0002")

        index = search_index_for(engine.dialect.name)
        async with session_factory(engine)() as session:
            found = await index.search(
                session, parse_query("tide ocean category:sea"), actor=None, page=1, page_size=5
            )
        assert (found.ids, found.total) == ([1], 1)

        await _run(empty_database_url, "downgrade", "0001")
        async with engine.connect() as conn:
            schema = await conn.run_sync(_search_objects)
        assert schema == set()
        await _run(empty_database_url, "upgrade", "head")
    finally:
        await engine.dispose()


def _search_objects(sync_conn: Connection) -> set[str]:
    inspector = inspect(sync_conn)
    if sync_conn.dialect.name == "sqlite":
        triggers = sync_conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        )
        found_triggers = {str(name) for (name,) in triggers}
    else:
        found_triggers = set()
    found = {t for t in inspector.get_table_names() if t.startswith("service_search")}
    found |= {c["name"] for c in inspector.get_columns("mcp_services")} & {"search_vector"}
    for table in ("mcp_services", "service_tags"):
        found |= {
            str(i["name"])
            for i in inspector.get_indexes(table)
            if str(i["name"]).startswith(("ix_search_", "ix_mcp_services_search"))
        }
    return found | found_triggers
